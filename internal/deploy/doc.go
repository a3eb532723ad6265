// Package deploy is the deployment service: it keeps the deploy targets
// (with their sealed secrets) and user layouts, and runs each deployment
// process (certificate to target) through its states, recording every
// step in the store and the audit trail. It is the one part of the deploy
// packages that knows the inventory; the others do one job each and know
// nothing of the store:
//
//   - engine: the install engine, the Host contract, Plan, Job, Outcome
//     and the presets;
//   - localhost and sshhost: the hosts of directory and SSH targets;
//   - check: the check of what a server serves;
//   - archive: the encrypted package and the zip of manual targets;
//   - sitereport: the reports of checks made on site.
//
// The service imports all of them and none imports it, so that the agent
// and the command line use the engine, the hosts and the check without
// the service. Agent targets have no Host here: an install to one is
// queued, and the agent fetches the job (AgentJobs, an engine.AgentJob
// holding the plan) over its mutual TLS connection, runs it on its own
// machine with localhost and engine.Run, and reports the Outcome
// (AgentResult). That delivery is in service_agent.go.
package deploy
