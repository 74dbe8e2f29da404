//go:build integration

package handler_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/policy"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

const kmsKey = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// scenario is one watched event on the emulator: the incident it reports,
// the event, and what the bucket must look like afterwards.
type scenario struct {
	name   string
	sample string // the CloudTrail sample the event is built from
	cfg    func(*config.Config)
	setup  func(r *erig, b string)
	check  func(t *testing.T, r *erig, b string, p posture.Posture)
	// status and owner are what the alert must say; "" status: no alert.
	status string
	owner  string
}

// cleanUnder asserts the default baseline: BPA all on, no public policy
// statement or ACL grant, TLS-only, default encryption.
func cleanUnder(t *testing.T, b string, p posture.Posture) {
	t.Helper()
	if p.BucketBPA.State != posture.Set || p.BucketBPA.Value != posture.AllOn {
		t.Errorf("BPA %+v", p.BucketBPA)
	}
	if p.Encryption.State != posture.Set {
		t.Errorf("no default encryption")
	}
	if p.ACL.State == posture.Set && acl.Judge(p.ACL.Value).Public {
		t.Errorf("ACL still public: %+v", p.ACL.Value)
	}
	d, err := policy.Parse([]byte(p.Policy.Value))
	if err != nil {
		t.Fatalf("policy %q: %v", p.Policy.Value, err)
	}
	if policy.Judge(d).Public || !d.RequiresTLS("aws", b) {
		t.Errorf("policy public=%v tls=%v:\n%s", policy.Judge(d).Public, d.RequiresTLS("aws", b), p.Policy.Value)
	}
}

// keeps asserts that a statement is still in the policy, by meaning (moto,
// like S3, may re-space a stored policy).
func keeps(t *testing.T, p posture.Posture, stmt string) {
	t.Helper()
	want, _ := policy.Canonical([]byte(stmt))
	d, err := policy.Parse([]byte(p.Policy.Value))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Statements {
		if c, _ := policy.Canonical(s.Raw); c == want {
			return
		}
	}
	t.Errorf("statement lost:\n%s\npolicy now:\n%s", stmt, p.Policy.Value)
}

func scenarios() []scenario {
	approved := map[string]string{"bucketguard:approved-public": "true", "owner": "web-team"}
	return []scenario{
		{name: "CreateBucket gets the baseline", sample: "CreateBucket",
			setup: func(r *erig, b string) { r.bucket(b) },
			check: func(t *testing.T, r *erig, b string, p posture.Posture) { cleanUnder(t, b, p) }, status: "remediated", owner: "unassigned"},
		{name: "PutBucketPolicy opening reads beside a partner statement", sample: "PutBucketPolicy",
			setup: func(r *erig, b string) {
				r.baseline(b, "finance")
				r.policy(b, policyDoc(crossAccountStmt(b), publicReadStmt(b), tlsStmt(b)))
			},
			check: func(t *testing.T, r *erig, b string, p posture.Posture) {
				cleanUnder(t, b, p)
				keeps(t, p, crossAccountStmt(b))
				keeps(t, p, tlsStmt(b))
			}, status: "remediated", owner: "finance"},
		{name: "DeleteBucketPolicy removed the TLS-only statement", sample: "DeleteBucketPolicy",
			setup: func(r *erig, b string) {
				r.baseline(b, "finance")
				_, err := r.e.Direct.S3.DeleteBucketPolicy(r.ctx, s3DeletePolicy(b))
				r.must(err)
			},
			check: func(t *testing.T, r *erig, b string, p posture.Posture) { cleanUnder(t, b, p) }, status: "remediated", owner: "finance"},
		{name: "PutBucketAcl public-read beside log delivery", sample: "PutBucketAcl",
			setup: func(r *erig, b string) {
				r.baseline(b, "web-team")
				r.bpa(b, nil)
				r.publicACL(b)
			},
			check: func(t *testing.T, r *erig, b string, p posture.Posture) {
				cleanUnder(t, b, p)
				if !slices.ContainsFunc(p.ACL.Value.Grants, func(g acl.Grant) bool { return g.Grantee.URI == acl.LogDelivery }) {
					t.Errorf("LogDelivery grant lost: %+v", p.ACL.Value)
				}
			}, status: "remediated", owner: "web-team"},
		{name: "PutBucketPublicAccessBlock weakened", sample: "PutBucketPublicAccessBlock",
			setup: func(r *erig, b string) {
				r.baseline(b, "finance")
				r.bpa(b, &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true})
			},
			check: func(t *testing.T, r *erig, b string, p posture.Posture) { cleanUnder(t, b, p) }, status: "remediated", owner: "finance"},
		{name: "DeleteBucketPublicAccessBlock", sample: "DeleteBucketPublicAccessBlock",
			setup: func(r *erig, b string) { r.baseline(b, "finance"); r.bpa(b, nil) },
			check: func(t *testing.T, r *erig, b string, p posture.Posture) { cleanUnder(t, b, p) }, status: "remediated", owner: "finance"},
		{name: "PutBucketEncryption weaker than the configured KMS key", sample: "PutBucketEncryption",
			cfg:   func(c *config.Config) { c.Encryption, c.KMSKeyARN = config.SSEKMS, kmsKey },
			setup: func(r *erig, b string) { r.baseline(b, "ledger") },
			check: func(t *testing.T, r *erig, b string, p posture.Posture) {
				if p.Encryption.Value.Algorithm != "aws:kms" || p.Encryption.Value.KMSKeyID != kmsKey {
					t.Errorf("encryption %+v", p.Encryption.Value)
				}
			}, status: "remediated", owner: "ledger"},
		{name: "DeleteBucketEncryption", sample: "DeleteBucketEncryption",
			setup: func(r *erig, b string) {
				r.baseline(b, "ledger")
				_, err := r.e.Direct.S3.DeleteBucketEncryption(r.ctx, s3DeleteEncryption(b))
				r.must(err)
			},
			check: func(t *testing.T, r *erig, b string, p posture.Posture) { cleanUnder(t, b, p) }, status: "remediated", owner: "ledger"},
		{name: "PutBucketOwnershipControls re-enabled ACLs", sample: "PutBucketOwnershipControls",
			cfg: func(c *config.Config) { c.EnforceOwnership = true },
			setup: func(r *erig, b string) {
				r.baseline(b, "web-team")
				r.ownership(b, posture.ObjectWriter)
			},
			check: func(t *testing.T, r *erig, b string, p posture.Posture) {
				cleanUnder(t, b, p)
				if p.Ownership.Value != posture.BucketOwnerEnforced {
					t.Errorf("ownership %+v", p.Ownership)
				}
			}, status: "remediated", owner: "web-team"},
		{name: "DeleteBucketOwnershipControls and a public ACL", sample: "DeleteBucketOwnershipControls",
			setup: func(r *erig, b string) { r.baseline(b, "web-team"); r.bpa(b, nil); r.publicACL(b) },
			check: func(t *testing.T, r *erig, b string, p posture.Posture) { cleanUnder(t, b, p) }, status: "remediated", owner: "web-team"},
		{name: "PutBucketTagging approves public read", sample: "PutBucketTagging",
			setup: func(r *erig, b string) {
				r.baseline(b, "")
				r.tags(b, approved)
				r.bpa(b, &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true})
				r.policy(b, policyDoc(publicReadStmt(b), tlsStmt(b)))
			},
			check: func(t *testing.T, r *erig, b string, p posture.Posture) {
				keeps(t, p, publicReadStmt(b))
			}, status: "reported", owner: "web-team"},
		{name: "DeleteBucketTagging removed the approval", sample: "DeleteBucketTagging",
			setup: func(r *erig, b string) {
				r.baseline(b, "")
				r.bpa(b, &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true})
				r.policy(b, policyDoc(publicReadStmt(b), tlsStmt(b)))
				_, err := r.e.Direct.S3.DeleteBucketTagging(r.ctx, s3DeleteTagging(b))
				r.must(err)
			},
			check: func(t *testing.T, r *erig, b string, p posture.Posture) { cleanUnder(t, b, p) }, status: "remediated", owner: "unassigned"},
		{name: "PutBucketVersioning suspended", sample: "PutBucketVersioning",
			cfg:   func(c *config.Config) { c.EnforceVersioning = true },
			setup: func(r *erig, b string) { r.baseline(b, "finance"); r.versioning(b, "Suspended") },
			check: func(t *testing.T, r *erig, b string, p posture.Posture) {
				if p.Versioning.Value != "Enabled" {
					t.Errorf("versioning %+v", p.Versioning)
				}
			}, status: "remediated", owner: "finance"},
		{name: "PutBucketLogging turned logging off", sample: "PutBucketLogging",
			cfg: func(c *config.Config) { c.AccessLogBucket = "acme-access-logs" },
			setup: func(r *erig, b string) {
				r.baseline(b, "finance")
				r.logBucket("acme-access-logs")
			},
			check: func(t *testing.T, r *erig, b string, p posture.Posture) {
				if p.Logging.Value.TargetBucket != "acme-access-logs" || p.Logging.Value.TargetPrefix != b+"/" {
					t.Errorf("logging %+v", p.Logging)
				}
			}, status: "remediated", owner: "finance"},
		{name: "PutAccountPublicAccessBlock weakened, control on", sample: "PutAccountPublicAccessBlock",
			cfg:   func(c *config.Config) { c.EnforceAccountBPA = true },
			setup: func(r *erig, _ string) { r.accountBPA(&posture.BPA{BlockPublicAcls: true}) },
			check: func(t *testing.T, r *erig, _ string, p posture.Posture) {
				if p.AccountBPA.Value != posture.AllOn {
					t.Errorf("account BPA %+v", p.AccountBPA)
				}
			}, status: "remediated", owner: "unassigned"},
		{name: "DeleteAccountPublicAccessBlock, control off: reported", sample: "DeleteAccountPublicAccessBlock",
			setup: func(r *erig, _ string) { r.accountBPA(&posture.AllOn); r.accountBPA(nil) },
			check: func(t *testing.T, r *erig, _ string, p posture.Posture) {
				if p.AccountBPA.State != posture.Absent {
					t.Errorf("account BPA written with the control off: %+v", p.AccountBPA)
				}
			}, status: "reported", owner: "unassigned"},
	}
}

// TestEveryWatchedEvent: for each watched name, the end state in the
// emulator is right, what was not public is still there, the alert reaches
// the subscribed queue with its attributes and the document, SNS got the
// e-mail text too, and a second delivery writes and says nothing.
func TestEveryWatchedEvent(t *testing.T) {
	covered := map[string]bool{}
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			var mut []func(*config.Config)
			if sc.cfg != nil {
				mut = append(mut, sc.cfg)
			}
			r := newERig(t, mut...)
			b := "acme-" + strings.ToLower(sc.sample)
			sc.setup(r, b)
			account := strings.Contains(sc.sample, "Account")
			if account {
				b = ""
			}
			raw := r.event(sc.sample, b)
			r.e.Proxy.Reset()
			if err := r.invoke(raw); err != nil {
				t.Fatalf("invoke: %v\n%s", err, r.logs.String())
			}
			covered[sc.sample] = true
			p := r.posture(b)
			sc.check(t, r, b, p)

			got := r.alerts()
			if len(got) != 1 {
				t.Fatalf("%d alerts in the owner's queue, want 1\n%s", len(got), r.logs.String())
			}
			a := got[0]
			attr := func(k string) string { return a.MessageAttributes[k].Value }
			if attr("status") != sc.status || attr("owner") != sc.owner || attr("account") != "111122223333" || attr("severity") == "" {
				t.Errorf("attributes %+v", a.MessageAttributes)
			}
			if !account && attr("bucket") != b {
				t.Errorf("bucket attribute %q", attr("bucket"))
			}
			if a.doc.Schema != "bucketguard.alert/v2" || a.doc.Event == nil || a.doc.Event.Name != sc.sample || a.Subject == "" {
				t.Errorf("document %+v, subject %q", a.doc, a.Subject)
			}
			pubs := r.published()
			if len(pubs) != 1 || !strings.Contains(pubs[0]["email"], "WHAT BUCKETGUARD FOUND") || !json.Valid([]byte(pubs[0]["default"])) {
				t.Errorf("published %v", pubs)
			}

			// The same event again: nothing to write, nothing to say.
			r.e.Proxy.Reset()
			if err := r.invoke(raw); err != nil {
				t.Fatal(err)
			}
			if w, n := r.e.Proxy.Writes(), r.e.Proxy.Count("sns:Publish"); w != 0 || n != 0 {
				t.Errorf("second delivery: %d writes, %d publishes\n%s", w, n, r.logs.String())
			}
		})
	}
	for _, name := range []string{"CreateBucket", "PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl", "PutBucketPublicAccessBlock",
		"DeleteBucketPublicAccessBlock", "PutBucketEncryption", "DeleteBucketEncryption", "PutBucketOwnershipControls",
		"DeleteBucketOwnershipControls", "PutBucketTagging", "DeleteBucketTagging", "PutBucketVersioning", "PutBucketLogging",
		"PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock"} {
		if !covered[name] {
			t.Errorf("no integration scenario for %s", name)
		}
	}
}

func TestNotifyModeWritesNothingAndAlerts(t *testing.T) {
	r := newERig(t, func(c *config.Config) { c.Mode = config.Notify })
	b := "acme-notify"
	r.baseline(b, "finance")
	r.policy(b, policyDoc(publicWriteStmt(b), tlsStmt(b)))
	r.e.Proxy.Reset()
	if err := r.invoke(r.event("PutBucketPolicy", b)); err != nil {
		t.Fatal(err)
	}
	if r.e.Proxy.Writes() != 0 {
		t.Errorf("notify mode wrote %d times", r.e.Proxy.Writes())
	}
	if got := r.alerts(); len(got) != 1 || got[0].MessageAttributes["status"].Value != "notified" || got[0].MessageAttributes["severity"].Value != "critical" {
		t.Errorf("alerts %+v", got)
	}
}

func TestApprovedBucketKeepsPublicReadLosesPublicWrite(t *testing.T) {
	r := newERig(t)
	b := "acme-website"
	r.baseline(b, "")
	r.tags(b, map[string]string{"bucketguard:approved-public": "true", "bucketguard:approved-until": "2099-01-01T00:00:00Z", "owner": "web-team"})
	r.bpa(b, nil)
	r.policy(b, policyDoc(publicReadStmt(b), publicWriteStmt(b)))
	if err := r.invoke(r.event("PutBucketPolicy", b)); err != nil {
		t.Fatal(err)
	}
	p := r.posture(b)
	keeps(t, p, publicReadStmt(b))
	if strings.Contains(p.Policy.Value, "PublicWrite") {
		t.Errorf("public write kept:\n%s", p.Policy.Value)
	}
	if p.BucketBPA.Value != (posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}) {
		t.Errorf("BPA %+v", p.BucketBPA.Value)
	}
	got := r.alerts()
	if len(got) != 1 || got[0].MessageAttributes["exemption"].Value != "approved-public" || got[0].doc.Exemption == nil || !got[0].doc.Exemption.Used {
		t.Errorf("alert does not say the exemption was used: %+v", got)
	}
}

func TestExpiredApprovalIsEnforced(t *testing.T) {
	r := newERig(t)
	b := "acme-old-website"
	r.baseline(b, "")
	r.tags(b, map[string]string{"bucketguard:approved-public": "true", "bucketguard:approved-until": "2020-01-01T00:00:00Z"})
	r.bpa(b, &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true})
	r.policy(b, policyDoc(publicReadStmt(b), tlsStmt(b)))
	if err := r.invoke(r.event("PutBucketTagging", b)); err != nil {
		t.Fatal(err)
	}
	cleanUnder(t, b, r.posture(b))
}

// A bucket that delegates to its access points (correctly
// non-public), and an access point with Block Public Access off whose policy
// opens read, write and delete to everyone. The PutAccessPointPolicy event
// names only the access point: the bucket is found from it; the public
// statement goes, the partner's stays, and the alert names the access point.
// (moto answers GetAccessPointPolicyStatus with IsPublic true whatever the
// policy, so a second delivery would raise the cross-check; that part is
// tested on the fakes.)
func TestAccessPointOnTheEmulator(t *testing.T) {
	r := newERig(t)
	b := "acme-invoices-prod"
	r.baseline(b, "finance")
	// Only the ACL half of the bucket's BPA is on: with RestrictPublicBuckets
	// the open access point would be restricted for now (medium), not open.
	r.bpa(b, &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true})
	r.policy(b, policyDoc(`{"Sid":"DelegateToAccessPoints","Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":["arn:aws:s3:::`+b+`","arn:aws:s3:::`+b+`/*"],"Condition":{"StringEquals":{"s3:DataAccessPointAccount":"111122223333"}}}`, tlsStmt(b)))
	ap := "partner-uploads"
	arn := "arn:aws:s3:" + r.e.Region + ":111122223333:accesspoint/" + ap + "/object/*"
	partner := `{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"` + arn + `"}`
	open := `{"Sid":"Open","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Resource":"` + arn + `"}`
	r.must(r.scene().AccessPoint(r.ctx, ap, b, posture.BPA{}, policyDoc(partner, open)))
	raw := r.event("PutAccessPointPolicy", "", func(d map[string]any) {
		d["requestParameters"].(map[string]any)["name"] = ap
	})
	if err := r.invoke(raw); err != nil {
		t.Fatalf("invoke: %v\n%s", err, r.logs.String())
	}
	got, err := r.scene().AccessPointPolicy(r.ctx, ap)
	r.must(err)
	if strings.Contains(got, `"Open"`) || !strings.Contains(canonical(t, got), canonical(t, partner)[1:len(canonical(t, partner))-1]) {
		t.Errorf("access point policy after:\n%s", got)
	}
	alerts := r.alerts()
	if len(alerts) != 1 || alerts[0].MessageAttributes["bucket"].Value != b || !strings.Contains(alerts[0].Message, "access point "+ap) || alerts[0].MessageAttributes["severity"].Value != "critical" {
		t.Fatalf("alerts %+v", alerts)
	}
}

func canonical(t *testing.T, doc string) string {
	t.Helper()
	c, err := policy.Canonical([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A website endpoint serves HTTP only, so an approved website
// never gets the TLS-only Deny (it would refuse every request to the site),
// and the alert says why; public write still goes.
func TestApprovedWebsiteKeepsServingOnTheEmulator(t *testing.T) {
	r := newERig(t)
	b := "acme-site"
	r.baseline(b, "web-team")
	r.tags(b, map[string]string{"owner": "web-team", "bucketguard:approved-public": "true"})
	r.bpa(b, &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true})
	r.must(r.scene().Website(r.ctx, b, "index.html"))
	r.policy(b, policyDoc(publicReadStmt(b), publicWriteStmt(b)))
	if err := r.invoke(r.event("PutBucketPolicy", b)); err != nil {
		t.Fatalf("invoke: %v\n%s", err, r.logs.String())
	}
	p := r.posture(b)
	if p.Website.State != posture.Set || p.Website.Value.IndexDocument != "index.html" {
		t.Errorf("website read as %+v", p.Website)
	}
	d, err := policy.Parse([]byte(p.Policy.Value))
	r.must(err)
	if d.RequiresTLS("aws", b) {
		t.Errorf("a TLS-only Deny was added to a website bucket:\n%s", p.Policy.Value)
	}
	keeps(t, p, publicReadStmt(b))
	if strings.Contains(p.Policy.Value, "PutObject") {
		t.Errorf("public write kept:\n%s", p.Policy.Value)
	}
	a := actionOf(r.onlyAlert(), plan.RequireTLS)
	if a.Outcome != remediations.Skipped || !strings.Contains(a.Skipped, "website endpoints do not support HTTPS") {
		t.Errorf("require-tls %+v: the alert must say why it was not added", a)
	}
}

// A website turned on for a bucket that is not approved stays private, and
// its event is told: the site will not be reachable, and how to approve it.
func TestWebsiteOnUnapprovedBucketOnTheEmulator(t *testing.T) {
	r := newERig(t)
	b := "acme-private-site"
	r.baseline(b, "web-team")
	r.must(r.scene().Website(r.ctx, b, "index.html"))
	if err := r.invoke(r.event("PutBucketWebsite", b)); err != nil {
		t.Fatalf("invoke: %v\n%s", err, r.logs.String())
	}
	d := r.onlyAlert()
	if len(d.Findings) != 1 || d.Findings[0].ID != plan.WebsiteNotApproved || !strings.Contains(d.Findings[0].Summary, "bucketguard:approved-public=true") {
		t.Errorf("findings %+v", d.Findings)
	}
	if p := r.posture(b); p.BucketBPA.Value != posture.AllOn {
		t.Errorf("BPA %+v: the site must stay private", p.BucketBPA)
	}
}

// With sse-kms configured, dual-layer encryption with a team's
// own key is neither downgraded nor re-keyed (reported, low); another
// account's key is reported (high), and replaced only with accepted keys
// configured, keeping dual layers.
func TestEncryptionNeverWeakerOnTheEmulator(t *testing.T) {
	const own = "arn:aws:kms:eu-west-1:111122223333:key/5555eeee-12ab-34cd-56ef-1234567890ab"
	const foreign = "arn:aws:kms:eu-west-1:999988887777:key/7777aaaa-12ab-34cd-56ef-1234567890ab"
	for _, tc := range []struct {
		name     string
		key      string
		accepted []string
		want     string // key after
		finding  plan.FindingID
	}{
		{"a team's own key", own, nil, own, plan.EncryptionOwnKey},
		{"another account's key, reported", foreign, nil, foreign, plan.EncryptionForeignKey},
		{"another account's key, accepted keys set", foreign, []string{own}, kmsKey, plan.EncryptionForeignKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newERig(t, func(c *config.Config) {
				c.Encryption, c.KMSKeyARN, c.AcceptedKMSKeys = config.SSEKMS, kmsKey, tc.accepted
			})
			b := "acme-dsse"
			r.baseline(b, "data-team")
			r.encryption(b, "aws:kms:dsse", tc.key)
			if err := r.invoke(r.event("PutBucketEncryption", b)); err != nil {
				t.Fatalf("invoke: %v\n%s", err, r.logs.String())
			}
			e := r.posture(b).Encryption
			if e.Value.Algorithm != "aws:kms:dsse" || e.Value.KMSKeyID != tc.want {
				t.Errorf("encryption after %+v, want aws:kms:dsse with %s", e.Value, tc.want)
			}
			d := r.onlyAlert()
			if len(d.Findings) == 0 || d.Findings[0].ID != tc.finding {
				t.Errorf("findings %+v, want %s", d.Findings, tc.finding)
			}
		})
	}
}
