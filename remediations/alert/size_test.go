package alert_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// hostile returns a string of n bytes that JSON escaping inflates: HTML
// characters, quotes, backslashes, control characters, line separators and
// invalid UTF-8, mixed by the seed.
func hostile(r *rand.Rand, n int) string {
	pieces := []string{"<", ">", "&", `"`, `\`, "\x01", "\u2028", "\xff", "é", "a"}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// hostilePolicy is a bucket or access point policy an attacker could write:
// one huge Sid, or many small public statements, up to S3's 20 KB.
func hostilePolicy(r *rand.Rand, resource string) string {
	sid := func(n int) string { s, _ := json.Marshal(hostile(r, n)); return string(s) }
	var stmts []string
	if r.IntN(2) == 0 {
		stmts = append(stmts, fmt.Sprintf(`{"Sid":%s,"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"%s"}`, sid(4+r.IntN(19*1024)), resource))
	} else {
		for i, n := 0, 1+r.IntN(150); i < n; i++ {
			stmts = append(stmts, fmt.Sprintf(`{"Sid":%s,"Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"%s"}`, sid(r.IntN(64)), resource))
		}
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// Whatever the policies say, the message SNS weighs (Message as
// sent, subject, attributes) is at most 262,144 bytes; what was cut is said;
// the JSON stays valid; a message that fits is not cut.
func TestMessageSizeBoundProperty(t *testing.T) {
	for seed := uint64(0); seed < 30; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		p := posture.Posture{Target: posture.Target{Account: fake.Account, Region: "eu-west-1", Bucket: "acme-data"},
			BucketBPA: posture.Fact[posture.BPA]{State: posture.Absent}, AccountBPA: posture.Fact[posture.BPA]{State: posture.Absent},
			Policy:     posture.Fact[string]{State: posture.Set, Value: hostilePolicy(r, "arn:aws:s3:::acme-data/*")},
			ACL:        posture.Fact[acl.ACL]{State: posture.Set, Value: fake.PrivateACL()},
			Encryption: posture.Fact[posture.Encryption]{State: posture.Absent},
			Tags:       posture.Fact[map[string]string]{State: posture.Set, Value: map[string]string{"owner": hostile(r, 200)}},
		}
		aps := posture.Fact[[]posture.AccessPoint]{State: posture.Set}
		for i, n := 0, [...]int{0, 0, 3, 40}[seed%4]; i < n; i++ {
			name := fmt.Sprintf("ap-%03d", i)
			arn := "arn:aws:s3:eu-west-1:111122223333:accesspoint/" + name
			aps.Value = append(aps.Value, posture.AccessPoint{AccessPointRef: posture.AccessPointRef{Kind: posture.BucketAccessPoint, Name: name},
				ARN: arn, Bucket: "acme-data", NetworkOrigin: "Internet",
				BPA:    posture.Fact[posture.BPA]{State: posture.Set},
				Policy: posture.Fact[string]{State: posture.Set, Value: hostilePolicy(r, arn+"/object/*")}})
		}
		p.AccessPoints = aps
		pl := plan.New(p, plan.Input{Config: config.Default(), Now: now, Event: "PutBucketPolicy", Actor: "arn:aws:iam::111122223333:user/" + hostile(r, 64)})
		res := remediations.Result{Target: p.Target, Mode: config.Enforce, Severity: pl.Severity(), Status: contract.Partial,
			Findings: pl.Findings, Notes: []string{hostile(r, 3000)}, Unresolved: pl.Unresolved, Trigger: change()}
		for _, a := range pl.Actions {
			res.Actions = append(res.Actions, remediations.ActionResult{Action: a, Outcome: remediations.Verified, Detail: hostile(r, 300)})
		}
		m := alertRender(res)
		if got := m.Size(); got > 262144 {
			t.Fatalf("seed %d: %d bytes, over SNS's 262,144", seed, got)
		}
		in := m.Envelope().Input("arn:aws:sns:eu-west-1:111122223333:t")
		var structured map[string]string
		if err := json.Unmarshal([]byte(*in.Message), &structured); err != nil || structured["email"] == "" {
			t.Fatalf("seed %d: Message is not the structured JSON: %v", seed, err)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(structured["default"]), &doc); err != nil {
			t.Fatalf("seed %d: the document is not JSON: %v", seed, err)
		}
		if len(*in.Subject) >= 100 || !utf8.ValidString(*in.Subject) || strings.ContainsAny(*in.Subject, "\n\r") {
			t.Fatalf("seed %d: subject %q", seed, *in.Subject)
		}
		if m.Document.Truncated != (len(m.Document.Cut) > 0) || (m.Document.Truncated && !strings.Contains(m.Text, "SHORTENED")) {
			t.Fatalf("seed %d: truncated %v, cut %v: what was cut must be said", seed, m.Document.Truncated, m.Document.Cut)
		}
		t.Logf("seed %d: %d bytes uncut, %d sent, %d cuts", seed, alertBuildUncut(res), m.Size(), len(m.Document.Cut))
		if whole := alertBuildUncut(res); whole <= 262144 && m.Document.Truncated {
			t.Fatalf("seed %d: a %d-byte message was cut", seed, whole)
		}
	}
}

func alertRender(r remediations.Result) alert.Message { return alert.Render(r) }
func alertBuildUncut(r remediations.Result) int       { return alert.SizeUncut(r) }

// A public statement whose Sid is 20 KB of "<" (each escaped to six bytes
// in JSON) still gives a message SNS takes.
func TestTwentyKilobyteSidOfAngleBrackets(t *testing.T) {
	sid := strings.Repeat("<", 20*1024-200)
	b := fake.Bucket{ACL: fake.PrivateACL(), Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"` + sid + `","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-data/*"}]}`}
	m := alert.Render(result(t, b, nil))
	if m.Size() > alert.MaxMessage {
		t.Fatalf("%d bytes, over SNS's %d", m.Size(), alert.MaxMessage)
	}
	if !strings.Contains(m.Document.Findings[0].Summary, "<<<<") {
		t.Error("the Sid is no longer in the finding")
	}
}

// A message that must be shortened keeps the most severe findings: 300
// public access point statements (high) do not push out the critical
// finding that a Deny refuses bucketguard, which comes last in plan order.
func TestShortenedAlertKeepsTheMostSevere(t *testing.T) {
	res := remediations.Result{Target: posture.Target{Account: fake.Account, Region: "eu-west-1", Bucket: "acme-data"}, Mode: config.Enforce,
		Status: contract.Partial, Trigger: change()}
	for i := range 300 {
		res.Findings = append(res.Findings, plan.Finding{ID: plan.PublicAccessPointStatement, Severity: plan.High, Setting: "access-point",
			AccessPoint: fmt.Sprintf("ap-%03d", i), Summary: strings.Repeat("public read through an access point statement; ", 20)})
	}
	res.Findings = append(res.Findings, plan.Finding{ID: plan.DeniesBucketguard, Severity: plan.Critical, Setting: "policy", Summary: "tampering: a Deny refuses bucketguard"})
	res.Severity = plan.Worst(res.Findings)
	m := alert.Render(res)
	if !m.Document.Truncated {
		t.Fatal("the alert was not shortened: the test does not test the cut")
	}
	if !slices.ContainsFunc(m.Document.Findings, func(f plan.Finding) bool { return f.ID == plan.DeniesBucketguard }) {
		t.Errorf("the critical finding was cut (%d of 301 kept; cut %q)", len(m.Document.Findings), m.Document.Cut)
	}
}
