"""The lab sandbox and the reviews: Docker-facing code with no Discord in it."""
