// Package archive writes the files a deployment is handed over in when
// certkeeper cannot install it itself: the encrypted one-click package
// (Seal, Open: argon2id and AES-256-GCM around an engine.Job that
// `certkeeper install` runs) and the conventional zip with a README for
// people who install by hand (WriteZip). Both hold the private key.
package archive
