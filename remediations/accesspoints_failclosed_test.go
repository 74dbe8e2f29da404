package remediations_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3control"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Access points that cannot be judged, on the in-memory fake.

// "the outcome is never remediated while a public statement
// or grant remains that the plan did not deliberately keep". An access
// point whose policy bucketguard is refused (its BPA off, so it may be
// public), or a refused listing, leaves public access unjudged; the bucket
// policy's equivalent adds to Unresolved and fails closed, the access
// point's does neither.
func TestUnjudgedAccessPointFailsClosed(t *testing.T) {
	denied := fake.APIError("AccessDenied", "Access Denied")
	for _, tc := range []struct {
		name  string
		fault fake.Fault
	}{
		{"access point policy refused", fake.FailOp(op.GetAccessPointPolicy, denied)},
		{"access point listing refused", fake.FailOp(op.ListAccessPoints, denied)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New()
			b := clean()
			b.BPA = &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
			b.Tags = approved("")
			b.Policy = doc(delegate, tlsStmt())
			b.Encryption = nil // one fix that is written and verified
			f.Put("acme-data", b)
			f.PutAccessPoint("partner-uploads", fake.AccessPoint{Bucket: "acme-data", Policy: apPolicy("partner-uploads", publicAP)})
			f.Fault = tc.fault
			res := eval(t, engine(f), bucketT, nil)
			if res.Status == contract.Remediated {
				t.Errorf("status %s with an unjudged access point (BPA off, public write in fact); unresolved %v; findings %+v",
					res.Status, res.Unresolved, res.Findings)
			}
		})
	}
}

// apStatusSaysPublic is the fake's control plane, but AWS's own verdict on
// every access point policy is "public" (as GetAccessPointPolicyStatus
// would say for a policy bucketguard reads as non-public).
type apStatusSaysPublic struct{ *fake.Control }

func (c apStatusSaysPublic) GetAccessPointPolicyStatus(ctx context.Context, in *s3control.GetAccessPointPolicyStatusInput, o ...func(*s3control.Options)) (*s3control.GetAccessPointPolicyStatusOutput, error) {
	out, err := c.Control.GetAccessPointPolicyStatus(ctx, in, o...)
	if err == nil {
		out.PolicyStatus = &ctltypes.PolicyStatus{IsPublic: true}
	}
	return out, err
}

// When AWS says an access point is public and bucketguard disagrees, the
// bucket is not "remediated": the disagreement is unresolved. And a
// statement pinned to the access point's own account is public in an access
// point policy (every request through it carries that account).
func TestAWSSaysAccessPointPublicIsUnresolved(t *testing.T) {
	f := fake.New()
	b := clean()
	b.BPA = &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
	b.Tags = approved("")
	b.Policy = doc(delegate, tlsStmt())
	b.Encryption = nil // one fix that is written and verified
	f.Put("acme-data", b)
	// Pinned to a VPC endpoint: not public by bucketguard's reading; AWS
	// (the stub below) says it is.
	f.PutAccessPoint("partner-uploads", fake.AccessPoint{Bucket: "acme-data", Policy: doc(
		`{"Sid":"Endpoint","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:eu-west-1:111122223333:accesspoint/partner-uploads/object/*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}`)})
	e := engine(f)
	e.Control = apStatusSaysPublic{f.Control()}
	res := eval(t, e, bucketT, nil)
	var aws bool
	for _, fd := range res.Findings {
		aws = aws || fd.ID == plan.AWSJudgesAccessPointPublic
	}
	if !aws {
		t.Fatalf("no cross-check finding: %+v", res.Findings)
	}
	if res.Status == contract.Remediated || len(res.Unresolved) == 0 {
		t.Errorf("status %s, unresolved %v, while AWS judges access point partner-uploads public", res.Status, res.Unresolved)
	}

	f.PutAccessPoint("partner-uploads", fake.AccessPoint{Bucket: "acme-data", Policy: doc(
		`{"Sid":"Tautology","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:eu-west-1:111122223333:accesspoint/partner-uploads/object/*","Condition":{"StringEquals":{"s3:DataAccessPointAccount":"111122223333"}}}`)})
	res = eval(t, engine(f), bucketT, nil)
	if ap, _ := f.AccessPoint("partner-uploads"); strings.Contains(ap.Policy, "Tautology") {
		t.Errorf("status %s: the statement pinned to the access point's own account was kept", res.Status)
	}
}

// A bucket policy that delegates to the access points of ANOTHER account
// (s3:DataAccessPointAccount fixed, so non-public by AWS's letter) lets
// that account's access points, which ListAccessPoints on this account
// never returns, serve the data publicly. Nothing is said.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html (delegating / cross-account access points)
func TestForeignAccessPointDelegationIsTold(t *testing.T) {
	f := fake.New()
	b := clean()
	b.Policy = doc(strings.ReplaceAll(delegate, `"s3:DataAccessPointAccount":"111122223333"`, `"s3:DataAccessPointAccount":"999988887777"`), tlsStmt())
	f.Put("acme-data", b)
	res := eval(t, engine(f), bucketT, &events.Change{Name: events.PutBucketPolicy})
	if len(res.Findings) == 0 {
		t.Errorf("status %s, no finding: the bucket delegates all access to account 999988887777's access points, which bucketguard cannot list or judge", res.Status)
	}
}

// concurrencyProbe counts the access point reads in flight at once; each
// takes a few milliseconds, as a real call does.
type concurrencyProbe struct {
	*fake.Control
	now, peak atomic.Int64
	mu        sync.Mutex
}

func (c *concurrencyProbe) enter() func() {
	n := c.now.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(5 * time.Millisecond)
	return func() { c.now.Add(-1) }
}

func (c *concurrencyProbe) GetAccessPoint(ctx context.Context, in *s3control.GetAccessPointInput, o ...func(*s3control.Options)) (*s3control.GetAccessPointOutput, error) {
	defer c.enter()()
	return c.Control.GetAccessPoint(ctx, in, o...)
}

func (c *concurrencyProbe) GetAccessPointPolicy(ctx context.Context, in *s3control.GetAccessPointPolicyInput, o ...func(*s3control.Options)) (*s3control.GetAccessPointPolicyOutput, error) {
	defer c.enter()()
	return c.Control.GetAccessPointPolicy(ctx, in, o...)
}

func (c *concurrencyProbe) GetAccessPointPolicyStatus(ctx context.Context, in *s3control.GetAccessPointPolicyStatusInput, o ...func(*s3control.Options)) (*s3control.GetAccessPointPolicyStatusOutput, error) {
	defer c.enter()()
	return c.Control.GetAccessPointPolicyStatus(ctx, in, o...)
}

// Anyone who may CreateAccessPoint can give a bucket 1,000+ access points
// (10,000 per region per account by default). The access point round then
// opens three calls per access point, all at once: thousands of
// simultaneous S3 Control requests from one invocation, a throttling storm
// whose transient errors fail and retry the whole evaluation.
func TestAccessPointRoundIsBounded(t *testing.T) {
	f := fake.New()
	f.Put("acme-data", clean())
	for i := range 1000 {
		f.PutAccessPoint("ap-"+itoa(i)+"-x", fake.AccessPoint{Bucket: "acme-data", Policy: apPolicy("ap-"+itoa(i)+"-x", partnerAP)})
	}
	probe := &concurrencyProbe{Control: f.Control()}
	e := engine(f)
	e.Control = probe
	eval(t, e, bucketT, nil)
	if p := probe.peak.Load(); p > 64 {
		t.Errorf("%d S3 Control reads in flight at once for one bucket", p)
	}
}

// An approved website bucket (public read kept, by design)
// that follows AWS's own advice to refuse TLS below 1.2 gets a CRITICAL
// "tampering" finding on every evaluation, though the Deny never applies
// to bucketguard's SDK (TLS 1.2+).
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html#example-object-tls-version
func TestTLSMinimumIsNotTampering(t *testing.T) {
	f := fake.New()
	b := clean()
	b.Tags = approved("")
	b.BPA = &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
	b.Policy = doc(publicRead, tlsStmt(),
		`{"Sid":"TLS12","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::acme-data","arn:aws:s3:::acme-data/*"],"Condition":{"NumericLessThan":{"s3:TlsVersion":"1.2"}}}`)
	f.Put("acme-data", b)
	e := engine(f, func(c *config.Config) {
		r, _ := events.ParseRoles("arn:aws:iam::111122223333:role/BucketGuard-eu-west-1-RemediateRoleABC,arn:aws:iam::111122223333:role/BucketGuard-eu-west-1-SweepRoleDEF")
		c.SelfRoles = r
	})
	res := eval(t, e, bucketT, nil)
	for _, fd := range res.Findings {
		if fd.ID == plan.DeniesBucketguard {
			t.Errorf("%s finding on a TLS-1.2 minimum: %s", fd.Severity, fd.Summary)
		}
	}
}

// A Multi-Region Access Point whose configuration read fails (so its alias
// is unknown) but whose policy is public: the emptied policy's placeholder
// Deny is written naming "accesspoint/" and "accesspoint//object/*", a
// resource that is not this access point (AWS would refuse it as
// malformed, or store a statement about nothing).
func TestMultiRegionPlaceholderNeedsTheAlias(t *testing.T) {
	f := fake.New()
	f.PutAccessPoint("acme-global", fake.AccessPoint{Kind: posture.MultiRegionAccessPoint,
		Policy: doc(`{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3::111122223333:accesspoint/acme-global0123456789.mrap/object/*"}`)})
	f.Fault = fake.FailOp(op.GetMultiRegionAccessPoint, fake.APIError("AccessDenied", "Access Denied"))
	ref := posture.AccessPointRef{Kind: posture.MultiRegionAccessPoint, Name: "acme-global"}
	target := posture.Target{Account: fake.Account, Region: "eu-west-1", AccessPoint: &ref}
	if _, err := engine(f).Evaluate(context.Background(), target, &events.Change{Name: events.PutMultiRegionAccessPointPolicy}, quiet); err != nil {
		t.Fatal(err)
	}
	if ap, _ := f.AccessPoint("acme-global"); strings.Contains(ap.Policy, `accesspoint/"`) || strings.Contains(ap.Policy, "accesspoint//") {
		t.Errorf("placeholder written without the access point's alias:\n%s", ap.Policy)
	}
}
