package policy_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/policy"
)

// checkFix asserts the safety invariants of a fix:
//   - the result parses and is not public (or public-read only, when approved);
//   - every Deny and every non-public statement is still there, byte for byte,
//     in the same order;
//   - every statement of the result is an original one, or the added TLS Deny:
//     a fix never adds an Allow and never edits a statement;
//   - the TLS-only statement exists exactly once when asked for and not already there;
//   - fixing again changes nothing.
func checkFix(t testing.TB, orig []byte, o policy.FixOptions) {
	t.Helper()
	d, err := policy.Parse(orig)
	if err != nil {
		return
	}
	f := d.Fix(o)
	if !f.Changed() {
		if f.Policy != nil || f.Empty {
			t.Fatalf("unchanged fix carries a policy")
		}
		r := policy.Judge(d)
		if r.PublicWrite || (r.Public && !o.KeepPublicRead) {
			t.Fatalf("left a public policy unchanged: %s", orig)
		}
		return
	}
	if f.Empty {
		for _, s := range d.Statements {
			if !s.Judge().Public {
				t.Fatalf("emptied a policy holding non-public statement %d: %s", s.Index, orig)
			}
		}
		if f.AddedTLS {
			t.Fatalf("empty policy but TLS added")
		}
		return
	}
	nd, err := policy.Parse(f.Policy)
	if err != nil {
		t.Fatalf("fixed policy does not parse: %v\n%s", err, f.Policy)
	}
	if len(f.Policy) > len(orig)+600 {
		t.Fatalf("fixed policy grew by %d bytes", len(f.Policy)-len(orig))
	}
	r := policy.Judge(nd)
	if r.PublicWrite || (r.Public && !o.KeepPublicRead) {
		t.Fatalf("fixed policy still public (%+v):\n%s", r, f.Policy)
	}
	origRaw := map[string]bool{}
	for _, s := range d.Statements {
		origRaw[string(s.Raw)] = true
	}
	added := 0
	for _, s := range nd.Statements {
		if origRaw[string(s.Raw)] {
			continue
		}
		added++
		if !strings.EqualFold(s.Effect, "Deny") || s.Sid != f.TLSSid {
			t.Fatalf("fix added a statement that is not the TLS Deny: %s", s.Raw)
		}
	}
	if added > 1 || (added == 1) != f.AddedTLS {
		t.Fatalf("added %d statements, AddedTLS=%v", added, f.AddedTLS)
	}
	// Kept statements keep their bytes and their order.
	var want [][]byte
	for _, s := range d.Statements {
		v := s.Judge()
		if !v.Public || (o.KeepPublicRead && !v.Write) {
			want = append(want, s.Raw)
		}
	}
	got := nd.Statements
	if f.AddedTLS {
		got = got[:len(got)-1]
	}
	if len(got) != len(want) {
		t.Fatalf("kept %d statements, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].Raw, want[i]) {
			t.Fatalf("statement %d changed:\n got %s\nwant %s", i, got[i].Raw, want[i])
		}
	}
	if o.RequireTLS && !nd.RequiresTLS(o.Partition, o.Bucket) {
		t.Fatalf("TLS-only statement missing after fix:\n%s", f.Policy)
	}
	if again := nd.Fix(o); again.Changed() {
		t.Fatalf("second fix changes %+v:\n%s", again, f.Policy)
	}
}

var (
	sids       = []string{"", "A", "PublicRead", "Sïd ✓ ünïcode", "BucketGuardDenyInsecureTransport", "Cross-Account"}
	principals = []string{`"Principal":"*"`, `"Principal":{"AWS":"*"}`, `"Principal":{"AWS":["arn:aws:iam::444455556666:root","*"]}`,
		`"Principal":{"AWS":"arn:aws:iam::444455556666:root"}`, `"Principal":{"Service":"cloudfront.amazonaws.com"}`,
		`"Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`,
		`"Principal":{"Federated":"cognito-identity.amazonaws.com"}`, `"NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"}`}
	actions = []string{`"Action":"s3:GetObject"`, `"Action":"s3:PutObject"`, `"Action":"s3:*"`, `"Action":"*"`,
		`"Action":["s3:GetObject","s3:ListBucket"]`, `"Action":["s3:GetObject","s3:DeleteObject"]`, `"Action":"s3:Get*"`, `"NotAction":"s3:Put*"`}
	conditions = []string{``, ``, `,"Condition":{"StringEquals":{"aws:SourceVpc":"vpc-91237329"}}`,
		`,"Condition":{"StringLike":{"aws:SourceVpc":"vpc-*"}}`, `,"Condition":{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}`,
		`,"Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`, `,"Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24"]}}`,
		`,"Condition":{"Bool":{"aws:SecureTransport":"false"}}`, `,"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`}
	spaces = []string{"", " ", "\n  ", "\t"}
)

func genStatement(r *rand.Rand, bucket string) string {
	sp := spaces[r.IntN(len(spaces))]
	var b strings.Builder
	b.WriteString("{" + sp)
	if sid := sids[r.IntN(len(sids))]; sid != "" {
		fmt.Fprintf(&b, `"Sid":%q,%s`, sid, sp)
	}
	effect := "Allow"
	if r.IntN(4) == 0 {
		effect = "Deny"
	}
	fmt.Fprintf(&b, `"Effect":"%s",%s%s,%s%s,`, effect, sp, principals[r.IntN(len(principals))], sp, actions[r.IntN(len(actions))])
	fmt.Fprintf(&b, `"Resource":["arn:aws:s3:::%s","arn:aws:s3:::%s/*"]`, bucket, bucket)
	b.WriteString(conditions[r.IntN(len(conditions))])
	b.WriteString(sp + "}")
	return b.String()
}

func genPolicy(r *rand.Rand, bucket string) []byte {
	n := r.IntN(6)
	stmts := make([]string, n)
	for i := range stmts {
		stmts[i] = genStatement(r, bucket)
	}
	if n == 1 && r.IntN(3) == 0 {
		return []byte(`{"Version":"2012-10-17","Statement":` + stmts[0] + `}`)
	}
	if r.IntN(5) == 0 { // sometimes the TLS statement is already there
		stmts = append(stmts, string(policy.DenyInsecureTransport("aws", bucket, "Existing")))
	}
	return []byte(`{"Id":"p1","Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`)
}

// TestFixProperties runs the invariants over generated policies. The seed is
// fixed, so a failure replays.
func TestFixProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 11))
	for i := range 3000 {
		orig := genPolicy(r, "acme-data")
		o := policy.FixOptions{KeepPublicRead: r.IntN(3) == 0, RequireTLS: r.IntN(4) != 0, Partition: "aws", Bucket: "acme-data"}
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkFix(t, orig, o) })
		if t.Failed() {
			t.Fatalf("policy %d:\n%s\noptions %+v", i, orig, o)
		}
	}
}

func TestFixExamples(t *testing.T) {
	const pub = `{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`
	const pubWrite = `{"Sid":"PublicWrite","Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::b/*"}`
	const xacct = `{ "Sid" : "CrossAccount",
	  "Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*" }`
	tls := string(policy.DenyInsecureTransport("aws", "b", policy.TLSSid))
	tests := []struct {
		name  string
		in    string
		opts  policy.FixOptions
		out   string
		empty bool
	}{
		{"drop public keep cross-account byte for byte",
			`{"Version":"2012-10-17","Id":"x","Statement":[` + xacct + `,` + pub + `]}`,
			policy.FixOptions{Bucket: "b", Partition: "aws"},
			`{"Version":"2012-10-17","Id":"x","Statement":[` + xacct + `]}`, false},
		{"emptied policy is deleted",
			`{"Version":"2012-10-17","Statement":[` + pub + `]}`,
			policy.FixOptions{Bucket: "b", Partition: "aws"}, "", true},
		{"emptied policy gets the TLS statement instead",
			`{"Version":"2012-10-17","Statement":[` + pub + `]}`,
			policy.FixOptions{Bucket: "b", Partition: "aws", RequireTLS: true},
			`{"Version":"2012-10-17","Statement":[` + tls + `]}`, false},
		{"approved keeps public read, drops public write",
			`{"Version":"2012-10-17","Statement":[` + pub + `,` + pubWrite + `]}`,
			policy.FixOptions{Bucket: "b", Partition: "aws", KeepPublicRead: true},
			`{"Version":"2012-10-17","Statement":[` + pub + `]}`, false},
		{"TLS appended once to a single-object Statement",
			`{"Version":"2012-10-17","Statement":` + xacct + `}`,
			policy.FixOptions{Bucket: "b", Partition: "aws", RequireTLS: true},
			`{"Version":"2012-10-17","Statement":[` + xacct + `,` + tls + `]}`, false},
		{"new policy from nothing", `{}`,
			policy.FixOptions{Bucket: "b", Partition: "aws", RequireTLS: true},
			`{"Version":"2012-10-17","Statement":[` + tls + `]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := policy.Parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			f := d.Fix(tt.opts)
			if f.Empty != tt.empty || string(f.Policy) != tt.out {
				t.Errorf("got empty=%v\n%s\nwant empty=%v\n%s", f.Empty, f.Policy, tt.empty, tt.out)
			}
			checkFix(t, []byte(tt.in), tt.opts)
		})
	}
}

func TestTLSDetection(t *testing.T) {
	tests := []struct {
		name string
		stmt string
		want bool
	}{
		{"ours", string(policy.DenyInsecureTransport("aws", "b", "X")), true},
		{"AWS's example with aws:* resources", `{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":false}}}`, true},
		{"wildcard resource", `{"Effect":"Deny","Principal":"*","Action":"*","Resource":"arn:aws:s3:::b*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, true},
		{"objects only", `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, false},
		{"some actions only", `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, false},
		{"an Allow", `{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, false},
		{"narrowed by another condition", `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"},"StringEquals":{"aws:SourceVpc":"vpc-1"}}}`, false},
		{"other bucket", string(policy.DenyInsecureTransport("aws", "other", "X")), false},
		{"other partition", string(policy.DenyInsecureTransport("aws-cn", "b", "X")), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := policy.Parse([]byte(`{"Statement":[` + tt.stmt + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := d.RequiresTLS("aws", "b"); got != tt.want {
				t.Errorf("RequiresTLS = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFreeSidAvoidsCollisions(t *testing.T) {
	d, _ := policy.Parse([]byte(`{"Statement":[{"Sid":"BucketGuardDenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`))
	if got := d.Fix(policy.FixOptions{RequireTLS: true, Partition: "aws", Bucket: "b"}).TLSSid; got != "BucketGuardDenyInsecureTransport2" {
		t.Errorf("TLSSid = %q", got)
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{"eu-west-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov", "us-east-1": "aws"} {
		if got := policy.Partition(region); got != want {
			t.Errorf("Partition(%s) = %s, want %s", region, got, want)
		}
	}
}
