// Package check judges what a TLS server serves after a deployment: Run
// connects (through the outbound policy when given one), and Evaluate
// decides whether the served certificate is the expected one, sent with
// its intermediates, trusted, valid and, where OCSP can tell, not
// revoked. The deploy service, the agent and `certkeeper install` pass
// Run to the engine as its engine.CheckFunc; site reports are judged with
// Evaluate too.
package check
