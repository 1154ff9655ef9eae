"""The local mirror of the Licendi catalog, pricing rules and margins."""
