package main

import "github.com/spf13/cobra"

// commands lists every herald command, one file each.
func (m *Main) commands() []*cobra.Command {
	return []*cobra.Command{
		m.migrateCommand(),
		m.versionCommand(),
		m.articlesCommand(),
		m.buildCommand(),
		m.serveCommand(),
		m.demoCommand(),
		m.sendNowCommand(),
		m.previewCommand(),
		m.subscribersCommand(),
		m.editionsCommand(),
		m.editorsCommand(),
		m.auditCommand(),
	}
}
