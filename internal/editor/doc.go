// Package editor holds the rules of editor accounts for the web UI:
// adding, removing and re-keying accounts, password hashing (argon2id in
// PHC form), authentication that answers an unknown address exactly as a
// wrong password, and the audit log every editor action is written to.
//
// Accounts and audit entries enter and leave through the Store interface
// declared here (internal/store implements it); the command line
// (herald editors, herald audit) and internal/server/admin call the
// Service.
package editor
