"""The normalizer: a snapshot's raw API responses -> typed Parquet tables of the contract."""
