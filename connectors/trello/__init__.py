"""The Trello connector: everything is declared in connector.yaml."""
