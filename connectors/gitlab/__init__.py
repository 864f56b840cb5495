"""The gitlab connector is declarative: see connector.yaml."""
