package api

// PLACEHOLDER: replaced by the deployment routes.

func (a *API) deploymentRoutes() []route { return nil }
