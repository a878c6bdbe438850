"""The reviewers in the admin group: the queue, the cards, claims, decisions and change
requests, reports and the daily digest. Diagram: ``review.mmd`` in this package."""
