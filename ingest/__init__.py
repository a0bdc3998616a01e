"""The ingest worker: ChirpStack v4 events from MQTT into TimescaleDB, exactly once."""
