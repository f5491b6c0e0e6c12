"""Safe defaults: response headers, login lockouts and how a lead lifts them, and revoking what
a deactivated user held (their calendar feed link)."""
