from prometheus_client import Counter

reports_received = Counter(
    "veza_moderation_reports_total", "Reports received, by category.", ["category"]
)
decisions_taken = Counter(
    "veza_moderation_decisions_total", "Moderation decisions, by action.", ["action"]
)
appeals_decided = Counter(
    "veza_moderation_appeals_decided_total", "Appeals decided, by outcome.", ["outcome"]
)
uploads_blocked = Counter(
    "veza_moderation_uploads_blocked_total",
    "Uploads refused as a recording taken down for copyright, by how they matched.",
    ["matched_by"],
)
