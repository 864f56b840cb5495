"""The Notion connector: everything is declared in connector.yaml."""
