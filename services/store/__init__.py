"""The store service: persists parsed meetings and decisions; publishes DecisionMade through an outbox."""
