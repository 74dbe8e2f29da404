package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/ocsf"
)

// --format ocsf prints one OCSF Compliance Finding a line for every
// exposure of every bucket evaluated, clean ones too; a bad format is
// invalid input.
func TestScanFormatOCSF(t *testing.T) {
	f := scanAccount()
	r := runCLI(t, f, config.Default(), "", "scan", "--format", "ocsf")
	if r.code != exitFindings {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 2*9 {
		t.Fatalf("%d lines for 9 buckets:\n%s", len(lines), r.stdout)
	}
	fails := 0
	for _, l := range lines {
		var v ocsf.Finding
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if v.ClassUID != ocsf.ClassUID || v.Metadata.Version != ocsf.Version || v.FindingInfo.UID == "" {
			t.Errorf("line %s", l)
		}
		if v.Compliance.Status == "Fail" {
			fails++
		}
	}
	if fails == 0 {
		t.Error("no failing finding for an account with public buckets")
	}
	if bad := runCLI(t, scanAccount(), config.Default(), "", "scan", "--format", "xml"); bad.code != exitInvalid {
		t.Errorf("--format xml: exit %d", bad.code)
	}
}
