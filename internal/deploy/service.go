package deploy

// PLACEHOLDER: replaced by the deployment service.

// Service runs deployment processes.
type Service struct{}
