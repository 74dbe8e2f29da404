package ocsf_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/ocsf"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

func results() []remediations.Result {
	t := posture.Target{Account: "111122223333", Region: "eu-west-1", Bucket: "acme-invoices"}
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	return []remediations.Result{
		{Target: t, Mode: config.Notify, Status: contract.Notified, Owner: "finance", Started: at, Run: "run-1",
			Findings: []plan.Finding{{ID: plan.PublicPolicyStatement, Severity: plan.Critical, Summary: "statement 1 grants s3:PutObject to everyone"},
				{ID: plan.PublicAccessPointStatement, Severity: plan.High, AccessPoint: "acme-ap", Summary: "public read"}}},
		{Target: t, Mode: config.Enforce, Status: contract.Remediated, Started: at,
			Trigger:  &events.Change{EventID: "ev-1", Name: events.PutBucketAcl, Time: at},
			Findings: []plan.Finding{{ID: plan.PublicACLGrant, Severity: plan.High, Summary: "AllUsers READ"}},
			Actions:  []remediations.ActionResult{{Action: plan.Action{Name: plan.RemovePublicACLGrants}, Outcome: remediations.Verified}}},
		{Target: t, Mode: config.Enforce, Status: contract.Clean, Started: at,
			Exemption: &plan.Exemption{Tag: "bucketguard:approved-public", Status: plan.Approved, Used: true, KeptStatements: []int{0}}},
		{Target: t, Mode: config.Enforce, Status: contract.BucketGone, Started: at, Findings: []plan.Finding{plan.BucketGoneFinding()}},
		{Target: posture.Target{Account: "111122223333", Region: "eu-west-1", AccessPoint: &posture.AccessPointRef{Kind: posture.MultiRegionAccessPoint, Name: "acme-global"}},
			Mode: config.Enforce, Status: contract.Clean, Started: at},
	}
}

// lines prints the findings of every result and decodes each line.
func lines(t *testing.T) []map[string]any {
	t.Helper()
	now := time.Date(2026, 5, 4, 10, 0, 1, 0, time.UTC)
	var all []ocsf.Finding
	for _, res := range results() {
		all = append(all, ocsf.Findings(res, now)...)
	}
	var out bytes.Buffer
	if err := ocsf.Write(&out, all); err != nil {
		t.Fatal(err)
	}
	var vs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

// check validates one finding against the Compliance Finding class of the
// bundle, its classification included, and its metadata.version against
// the bundle's.
func check(b *bundle, v map[string]any) []string {
	var profiles []string
	if md, ok := v["metadata"].(map[string]any); ok {
		if ps, ok := md["profiles"].([]any); ok {
			for _, p := range ps {
				s, _ := p.(string)
				profiles = append(profiles, s)
			}
		}
	}
	class, err := b.resolve("event", "compliance_finding", profiles)
	if err != nil {
		return []string{err.Error()}
	}
	errs := b.validate("", class, v, profiles)
	for _, p := range profiles {
		if !slices.Contains(class.profiles, p) {
			errs = append(errs, fmt.Sprintf("metadata.profiles names %q, which Compliance Finding does not allow (%v)", p, class.profiles))
		}
	}
	// type_uid is class_uid × 100 + activity_id, whatever each says alone.
	if c, a, ty := v["class_uid"], v["activity_id"], v["type_uid"]; c != nil && a != nil && ty != nil {
		cu, _ := c.(float64)
		au, _ := a.(float64)
		if tu, _ := ty.(float64); tu != cu*100+au {
			errs = append(errs, fmt.Sprintf("type_uid %v is not class_uid %v × 100 + activity_id %v", tu, cu, au))
		}
	}
	if md, _ := v["metadata"].(map[string]any); md["version"] != b.Version {
		errs = append(errs, fmt.Sprintf("metadata.version %v, the schema is %s", md["version"], b.Version))
	}
	return errs
}

// Every line is a Compliance Finding of OCSF 1.1.0: every attribute the
// class, its includes, its cloud profile and its objects require, nothing
// they do not define, each value of its type and enum, checked against
// the schema kept in testdata (testdata/schema/SOURCES.md).
func TestFindingsFollowTheSchema(t *testing.T) {
	b := loadBundle(t, "testdata/schema")
	if b.Version != ocsf.Version {
		t.Fatalf("schema %s, findings %s", b.Version, ocsf.Version)
	}
	vs := lines(t)
	if len(vs) != 2*4+1+1 { // two kinds a bucket, an access point, the MRAP
		t.Fatalf("%d lines", len(vs))
	}
	statuses := map[string]bool{}
	for _, v := range vs {
		for _, e := range check(b, v) {
			t.Errorf("%s: %s", v["finding_info"].(map[string]any)["uid"], e)
		}
		statuses[v["compliance"].(map[string]any)["status"].(string)+"/"+v["status"].(string)] = true
	}
	for _, want := range []string{"Fail/New", "Pass/Resolved", "Fail/Suppressed", "Unknown/Archived"} {
		if !statuses[want] {
			t.Errorf("no %s finding among %v", want, statuses)
		}
	}
}

// The check refuses what OCSF 1.1.0 does not allow, so a finding that
// passes it follows that version.
func TestSchemaCheckRefusesWhat110DoesNotAllow(t *testing.T) {
	b := loadBundle(t, "testdata/schema")
	cases := []struct {
		name   string
		change func(v map[string]any)
		want   string
	}{
		{"the 1.3.0 resources array", func(v map[string]any) { v["resources"] = []any{v["resource"]}; delete(v, "resource") }, "resources is not defined"},
		{"a finding status 1.1.0 has not", func(v map[string]any) { v["status_id"] = float64(5) }, "not one of the enum's values"},
		{"no compliance object", func(v map[string]any) { delete(v, "compliance") }, "required attribute compliance missing"},
		{"a severity name not its id's", func(v map[string]any) { v["severity"] = "Low" }, "but severity says"},
		{"time as text", func(v map[string]any) { v["time"] = "2026-05-04T10:00:01Z" }, "not an integer"},
		{"a compliance standard not a list", func(v map[string]any) { v["compliance"].(map[string]any)["standards"] = "bucketguard" }, "not an array"},
		{"a product with no vendor", func(v map[string]any) {
			delete(v["metadata"].(map[string]any)["product"].(map[string]any), "vendor_name")
		}, "required attribute vendor_name missing"},
		{"the cloud profile without its object", func(v map[string]any) { delete(v, "cloud") }, "required attribute cloud missing"},
		{"a class number of another class", func(v map[string]any) { v["class_uid"] = float64(2001) }, "class_uid: 2001 is not one of"},
		{"a resource with neither name nor uid", func(v map[string]any) {
			r := v["resource"].(map[string]any)
			delete(r, "name")
			delete(r, "uid")
		}, "none of [name uid]"},
		{"a type name of another activity", func(v map[string]any) { v["type_name"] = "Compliance Finding: Close" }, "but type_name says"},
		{"an attribute resource details has not", func(v map[string]any) { v["resource"].(map[string]any)["arn"] = "arn:aws:s3:::b" }, "attribute arn is not defined by resource_details"},
		{"a type of another activity", func(v map[string]any) { v["activity_id"], v["activity_name"] = float64(3), "Close" }, "is not class_uid"},
		{"activity unknown, type of Create", func(v map[string]any) { v["activity_id"], v["activity_name"] = float64(0), "Unknown" }, "is not class_uid"},
		{"status Other without saying what", func(v map[string]any) { v["status_id"] = float64(99); delete(v, "status") }, "without status"},
		{"a message over string_t's bound", func(v map[string]any) { v["message"] = strings.Repeat("x", 65536) }, "over string_t's 65535"},
		{"a profile the class does not allow", func(v map[string]any) {
			v["metadata"].(map[string]any)["profiles"] = []any{"cloud", "no-such-profile"}
		}, `names "no-such-profile"`},
		{"an unknown account type", func(v map[string]any) {
			v["cloud"].(map[string]any)["account"].(map[string]any)["type_id"] = float64(11)
		}, "not one of the enum's values"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := lines(t)[0]
			if errs := check(b, v); len(errs) != 0 {
				t.Fatalf("the finding itself fails: %v", errs)
			}
			c.change(v)
			errs := check(b, v)
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, c.want) }) {
				t.Errorf("want an error with %q, got %v", c.want, errs)
			}
		})
	}
}

// The schema file is the one SOURCES.md names, byte for byte.
func TestSchemaIsTheOneNamed(t *testing.T) {
	src, err := os.ReadFile("testdata/schema/SOURCES.md")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/schema/ocsf-1.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	sum := fmt.Sprintf("%x", sha256.Sum256(raw))
	if !strings.Contains(string(src), sum) {
		t.Errorf("ocsf-1.1.0.json has sha256 %s, which SOURCES.md does not name", sum)
	}
}
