"""The Asana connector: everything is declared in connector.yaml."""
