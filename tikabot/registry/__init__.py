"""Dose records to the upstream registry over FHIR R4: resources, the export Bundle, sync, reconcile."""
