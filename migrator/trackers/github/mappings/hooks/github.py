"""Hook for mappings into GitHub Issues: plan no watchers.

GitHub's API cannot subscribe another person to an issue, so the GitHub
target stores no watchers.  Planning none keeps the plan true to what will be
loaded (and verify from expecting them); list the cc in the text with
``preserve: [watchers]``.
"""


def transform(ticket, payload):
    payload["watchers"] = []
    return payload
