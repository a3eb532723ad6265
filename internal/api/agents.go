package api

// PLACEHOLDER: replaced by the agent routes.

func (a *API) agentRoutes() []route { return nil }
