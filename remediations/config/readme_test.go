package config_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/config"
)

var update = flag.Bool("update", false, "rewrite the README section")

// The README's settings table comes from Settings.
func TestREADMESettingsTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	for _, s := range config.Settings() {
		def := ""
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", s.Env, def, s.Meaning)
	}
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	begin, end := "<!-- settings:begin -->\n", "<!-- settings:end -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatal("README has no settings section")
	}
	if got := doc[i+len(begin) : j]; got != b.String() {
		if *update {
			if err := os.WriteFile("../../README.md", []byte(doc[:i+len(begin)]+b.String()+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README settings section is out of date (go test -update rewrites it):\n%s", b.String())
	}
}
