package config_test

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/docs/golden"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/op"
)

var update = flag.Bool("update", false, "rewrite the docs section")

// The docs' settings table comes from Settings.
func TestDocsSettingsTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("| variable | CDK context key | default | meaning |\n|---|---|---|---|\n")
	for _, s := range config.Settings() {
		def, key := "", "—"
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		if s.Context != "" {
			key = "`" + s.Context + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", s.Env, key, def, s.Meaning)
	}
	golden.Section(t, "../../docs/configuration.md", "settings", b.String(), *update)
}

// The docs' IAM table comes from the operation list, for the configuration
// with every optional control on; the rows say which need a control.
func TestDocsIAMTable(t *testing.T) {
	base := map[op.Operation]bool{}
	for _, o := range config.Default().Operations() {
		base[o] = true
	}
	all := config.Default()
	all.EnforceVersioning, all.AccessLogBucket, all.EnforceOwnership, all.EnforceAccountBPA = true, "logs", true, true
	var b strings.Builder
	b.WriteString("| operation | IAM action | granted on | when |\n|---|---|---|---|\n")
	for _, o := range all.Operations() {
		spec, _ := op.Lookup(o)
		on := map[op.Resource]string{
			op.Bucket:          "`arn:<partition>:s3:::*`",
			op.Account:         "`*`",
			op.AccessPointARN:  "`arn:<partition>:s3:<region>:<account>:accesspoint/*`",
			op.ObjectLambdaARN: "`arn:<partition>:s3-object-lambda:<region>:<account>:accesspoint/*`",
			op.MultiRegionARN:  "`arn:<partition>:s3::<account>:accesspoint/*`",
		}[spec.Resource]
		when := "always"
		if !base[o] {
			when = "with its optional control on"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", o, spec.IAM, on, when)
	}
	for _, o := range config.SweepOperations() {
		spec, _ := op.Lookup(o)
		when := "the sweep"
		if spec.Resource == op.Trails {
			when = "the sweep, in the home region (the trail check)"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", o, spec.IAM, "`*`", when)
	}
	golden.Section(t, "../../docs/configuration.md", "iam", b.String(), *update)
}
