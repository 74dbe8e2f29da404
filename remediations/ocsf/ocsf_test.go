package ocsf_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
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

// def is one OCSF definition file: a class or an object.
type def struct {
	Extends     string                     `json:"extends"`
	Attributes  map[string]json.RawMessage `json:"attributes"`
	Constraints struct {
		AtLeastOne []string `json:"at_least_one"`
	} `json:"constraints"`
}

// schema merges a definition with what it extends, from testdata: every
// attribute, and those required.
func schema(t *testing.T, dir, name string) (attrs map[string]bool, required []string, atLeastOne []string) {
	t.Helper()
	attrs = map[string]bool{}
	req := map[string]string{}
	var chain []def
	for name != "" && name != "object" {
		var path string
		for _, p := range []string{"events/" + name + ".json", "events/findings/" + name + ".json", "objects/" + name + ".json"} {
			if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
				path = p
			}
		}
		if path == "" {
			t.Fatalf("no definition of %s in testdata", name)
		}
		b, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil {
			t.Fatal(err)
		}
		var d def
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		chain = append(chain, d)
		name = d.Extends
	}
	// The most derived definition wins (it may change a requirement).
	for i := len(chain) - 1; i >= 0; i-- {
		for k, raw := range chain[i].Attributes {
			if strings.HasPrefix(k, "$") {
				continue
			}
			attrs[k] = true
			var a struct {
				Requirement string `json:"requirement"`
			}
			_ = json.Unmarshal(raw, &a)
			if a.Requirement != "" {
				req[k] = a.Requirement
			}
		}
		if c := chain[i].Constraints.AtLeastOne; len(c) > 0 {
			atLeastOne = c
		}
	}
	for k, r := range req {
		if r == "required" {
			required = append(required, k)
		}
	}
	slices.Sort(required)
	return attrs, required, atLeastOne
}

// objects names the definition of each object attribute bucketguard writes.
var objects = map[string]string{
	"metadata": "metadata", "metadata.product": "product", "finding_info": "finding_info",
	"compliance": "compliance", "resources": "resource_details",
}

// check validates one object (or the event, at path "") against its
// definition: every required attribute present, at least one of a
// constraint's, and (for the class) nothing it does not define.
func check(t *testing.T, dir, path, name string, v map[string]any, closed bool) {
	t.Helper()
	attrs, required, atLeastOne := schema(t, dir, name)
	for _, k := range required {
		if _, ok := v[k]; !ok {
			t.Errorf("%s (%s): required attribute %s missing", path, name, k)
		}
	}
	if len(atLeastOne) > 0 && !slices.ContainsFunc(atLeastOne, func(k string) bool { _, ok := v[k]; return ok }) {
		t.Errorf("%s (%s): none of %v", path, name, atLeastOne)
	}
	for k, val := range v {
		if closed && !attrs[k] {
			t.Errorf("%s: attribute %s is not defined by %s", path, k, name)
		}
		sub := strings.TrimPrefix(path+"."+k, ".")
		obj, ok := objects[sub]
		if !ok {
			continue
		}
		switch x := val.(type) {
		case map[string]any:
			check(t, dir, sub, obj, x, false)
		case []any:
			for _, e := range x {
				check(t, dir, sub, obj, e.(map[string]any), false)
			}
		default:
			t.Errorf("%s is %T, not an object", sub, val)
		}
	}
}

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

// Every line is a Compliance Finding of OCSF 1.1.0 with every attribute the
// class and its objects require, checked against the schema files kept in
// testdata (testdata/schema/SOURCES.md).
func TestFindingsFollowTheSchema(t *testing.T) {
	dir := "testdata/schema"
	now := time.Date(2026, 5, 4, 10, 0, 1, 0, time.UTC)
	var all []ocsf.Finding
	for _, res := range results() {
		all = append(all, ocsf.Findings(res, now)...)
	}
	var out bytes.Buffer
	if err := ocsf.Write(&out, all); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2*4+1+1 { // two kinds a bucket, an access point, the MRAP
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	statuses := map[string]bool{}
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		check(t, dir, "", "compliance_finding", v, true)
		if v["class_uid"] != float64(2003) || v["category_uid"] != float64(2) || v["type_uid"] != float64(2003*100)+v["activity_id"].(float64) {
			t.Errorf("classification %v %v %v", v["class_uid"], v["category_uid"], v["type_uid"])
		}
		md := v["metadata"].(map[string]any)
		if md["version"] != ocsf.Version || ocsf.Version != "1.1.0" {
			t.Errorf("metadata.version %v", md["version"])
		}
		if sev := v["severity_id"].(float64); sev < 1 || sev > 5 {
			t.Errorf("severity_id %v", sev)
		}
		if _, ok := v["time"].(float64); !ok {
			t.Errorf("time %v is not a timestamp", v["time"])
		}
		statuses[v["compliance"].(map[string]any)["status"].(string)+"/"+v["status"].(string)] = true
	}
	for _, want := range []string{"Fail/New", "Pass/Resolved", "Warning/Suppressed", "Pass/Archived"} {
		if !statuses[want] {
			t.Errorf("no %s finding among %v", want, statuses)
		}
	}
}
