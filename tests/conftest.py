"""Services any test can ask for by fixture name, started only when one does:
`postgres` (a throwaway PostgreSQL cluster) and `s3` (moto's S3 server); see tests/services/."""

pytest_plugins = ["tests.services.postgres", "tests.services.s3"]
