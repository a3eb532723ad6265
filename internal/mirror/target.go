package mirror

// The copies of a deploy target, and why there are still several.
//
// The web form and the target commands of the CLI have no target struct
// of their own: they read what the user gives straight onto a
// client.TargetInput (internal/web targetTextFields, internal/cli
// targetTextFlags) and send it through the public client, and
// internal/api alone converts client.TargetInput and client.Target to and
// from deploy.TargetInput and deploy.TargetView. What is left cannot be
// one type: inventory.Target is what the store keeps (sealed secrets, a
// time.Duration); deploy.TargetInput says "unchanged" with nil and takes
// secrets in the clear; client is the public package and the REST API's
// wire format, which may not expose internal types and must keep its
// JSON names; the form's field names and the flags are what users type.
// So those copies stay, and Target records, in one table, every way in
// which they legitimately differ; the tests of internal/api, internal/web
// and internal/cli check their copies against it.

// The layer names of the target concept, one per copy.
const (
	TargetStore     = "inventory.Target"
	TargetView      = "deploy.TargetView"
	TargetInput     = "deploy.TargetInput"
	TargetWire      = "client.Target"
	TargetWireInput = "client.TargetInput"
	TargetForm      = "web target form"
	TargetAddFlags  = "flags of certkeeper target add"
	TargetEditFlags = "flags of certkeeper target edit"
)

// Target is the deploy target concept: its copies and the one table of
// the fields that are not in every copy under their wire name. A field
// added to targets goes into every copy; the tests of internal/api,
// internal/web and internal/cli name each copy that lacks it. A field
// that belongs in some copies only gets a rule here, with the reason.
func Target() Concept {
	stored := []string{TargetStore, TargetView, TargetWire}
	inputs := []string{TargetInput, TargetWireInput, TargetForm, TargetAddFlags, TargetEditFlags}
	flags := func(name string) map[string]string {
		return map[string]string{TargetAddFlags: name, TargetEditFlags: name}
	}
	secret := func(field, flag, has string) Rule {
		return Rule{Field: field, In: inputs, As: flags(flag),
			Why: "write-only secret: sealed into SealedSecrets and shown back only as " + has +
				"; the CLI reads it from a file, never from the command line"}
	}
	return Concept{Name: "target", Table: "mirror.Target in internal/mirror/target.go",
		Layers: []string{TargetStore, TargetView, TargetInput, TargetWire, TargetWireInput, TargetForm,
			TargetAddFlags, TargetEditFlags},
		Rules: []Rule{
			{Field: "id", In: stored, Why: "assigned by the store; the API, the form and the CLI take it from the URL or the TARGET argument"},
			{Field: "version", In: []string{TargetStore, TargetView, TargetWire, TargetForm}, Why: "read with the target and sent back as If-Match " +
				"(the form's hidden version field), never part of the input"},
			{Field: "created_at", In: stored, Why: "kept by the store"},
			{Field: "updated_at", In: stored, Why: "kept by the store"},
			{Field: "SealedSecrets", In: []string{TargetStore, TargetView}, Why: "the sealed secrets never leave the " +
				"deploy service: the view holds them nil and the wire says only has_ssh_password, has_ssh_key, has_keystore_password"},
			{Field: "agent", In: []string{TargetView, TargetWire}, Why: "the agent's name, looked up for display; " +
				"inputs name the agent by agent_id"},
			{Field: "has_ssh_password", In: []string{TargetView, TargetWire}, Why: "whether ssh_password is stored"},
			{Field: "has_ssh_key", In: []string{TargetView, TargetWire}, Why: "whether ssh_private_key is stored"},
			{Field: "has_keystore_password", In: []string{TargetView, TargetWire}, Why: "whether keystore_password is stored"},
			secret("ssh_password", "ssh-password-file", "has_ssh_password"),
			secret("ssh_private_key", "ssh-key-file", "has_ssh_key"),
			secret("keystore_password", "keystore-password-file", "has_keystore_password"),
			{Field: "reload_timeout_seconds", As: map[string]string{TargetStore: "ReloadTimeout", TargetView: "ReloadTimeout",
				TargetInput: "ReloadTimeout", TargetAddFlags: "timeout", TargetEditFlags: "timeout"},
				Why: "a time.Duration in the domain, whole seconds on the wire and in the form; --timeout takes a duration (90s)"},
			{Field: "directory", As: flags("dir"), Why: "the flag is the shorter --dir"},
			{Field: "agent_id", As: flags("agent"), Why: "--agent takes the agent's name or ID"},
			{Field: "check.host", As: flags("check"), Why: "--check HOST[:PORT] sets check.host and check.port"},
			{Field: "check.port", As: flags("check"), Why: "--check HOST[:PORT] sets check.host and check.port"},
			{Field: "check.sni", As: flags("sni"), Why: "the flag is the shorter --sni"},
			{Field: "check.starttls", As: flags("check-starttls"), Why: "--starttls alone would read as the connection of the command itself"},
			{Field: "check.client_certificate_id", As: flags("client-cert"), Why: "--client-cert takes a certificate ID or SHA-256"},
			{Field: "rollback_on_failure", As: flags("no-rollback"), Why: "rolling back is the default, so the flag turns it off"},
			{Field: "rollback_shown", In: []string{TargetForm}, Why: "tells the handler the checkbox was on the form: " +
				"an unticked box sends nothing, and without the marker rollback_on_failure stays nil (unchanged)"},
			{Field: "clear_ssh_password", In: []string{TargetForm}, Why: "ticked, ssh_password is sent as \"\" (remove the stored one)"},
			{Field: "clear_ssh_private_key", In: []string{TargetForm}, Why: "ticked, ssh_private_key is sent as \"\" (remove the stored one)"},
			{Field: "clear_keystore_password", In: []string{TargetForm}, Why: "ticked, keystore_password is sent as \"\" (remove the stored one)"},
			{Field: "clear", In: []string{TargetEditFlags}, Why: "--clear NAME sends that secret as \"\" (remove the stored one); " +
				"a new target has nothing to remove"},
			{Field: "yes", In: []string{TargetAddFlags, TargetEditFlags}, Why: "confirms the host key that --ssh-host-key scan " +
				"fetched; sets no field of its own"},
		}}
}
