"""S3 APT threat warning (APT威胁预警): STIX indicators matched against units' logs."""
