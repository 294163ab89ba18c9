"""Email rendering of review notifications: subject, plain-text and HTML parts from templates."""
