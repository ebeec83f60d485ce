"""The Badges API as the pipeline speaks it: endpoints, auth, limits, retries, paging."""
