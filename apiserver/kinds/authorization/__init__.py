"""The authorization.k8s.io group: access reviews, answered and never stored (reviews.py)."""
