// Package agent is certkeeper's deployment agent and the manager's side of it.
package agent

// PLACEHOLDER: replaced by the agent registry.

// Registry enrolls and lists agents.
type Registry struct{}
