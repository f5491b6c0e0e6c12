"""The REST API (Django REST Framework): a thin layer over the services and selectors, with an
OpenAPI schema (drf-spectacular) and RFC 9457 problem details for every error."""
