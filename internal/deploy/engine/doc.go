// Package engine installs certificate files on a Host and undoes the
// install when it breaks the server: Apply and ApplyGroup back up the
// files a Plan replaces, write the new ones atomically, run the test and
// reload commands and restore the backup on failure; Run and RunTurns add
// the check of what the server then serves; Rollback restores a backup
// later. It also holds what an install is made of, shared by every part
// of certkeeper that installs: the Host contract, Plan, Job, Outcome, the
// presets and the backup manifest.
//
// The engine knows no host kind. The hosts implement Host in their own
// packages (localhost, sshhost), import this one, and are imported by
// whoever picks the host: the deploy service, the agent and the
// `certkeeper install` command.
package engine
