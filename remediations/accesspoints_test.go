package remediations_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Statements of an access point policy, for the access point %s.
const (
	publicAP  = `{"Sid":"Open","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:eu-west-1:111122223333:accesspoint/%s/object/*"}`
	partnerAP = `{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:eu-west-1:111122223333:accesspoint/%s/object/*"}`
	// delegate is the bucket statement that delegates access control to the
	// account's access points: correctly non-public.
	delegate = `{"Sid":"DelegateToAccessPoints","Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":["arn:aws:s3:::acme-data","arn:aws:s3:::acme-data/*"],"Condition":{"StringEquals":{"s3:DataAccessPointAccount":"111122223333"}}}`
)

func apPolicy(name string, stmts ...string) string {
	for i := range stmts {
		stmts[i] = strings.ReplaceAll(stmts[i], "%s", name)
	}
	return doc(stmts...)
}

// A bucket that delegates to its access points, with an access
// point whose Block Public Access is off and whose policy opens read, write
// and delete to everyone. Before, check said "clean"; now the access point's
// public statement goes, its partner statement stays byte for byte, and the
// alert names it.
func TestPublicAccessPointIsFound(t *testing.T) {
	for _, tc := range []struct {
		name     string
		approved bool
		bucket   *posture.BPA
		severity plan.Severity
	}{
		{"bucket BPA all on: restricted for now", false, &posture.AllOn, plan.Medium},
		{"approved bucket, policy BPA off: public write", true, &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}, plan.Critical},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New()
			b := clean()
			b.BPA = tc.bucket
			b.Policy = doc(delegate, tlsStmt())
			if tc.approved {
				b.Tags = approved("")
			}
			f.Put("acme-data", b)
			f.PutAccessPoint("partner-uploads", fake.AccessPoint{Bucket: "acme-data", Policy: apPolicy("partner-uploads", partnerAP, publicAP)})
			res := eval(t, engine(f), bucketT, nil)
			if res.Severity != tc.severity || res.Status != contract.Remediated {
				t.Fatalf("severity %s status %s: %+v", res.Severity, res.Status, res.Findings)
			}
			var found bool
			for _, fd := range res.Findings {
				if fd.ID == plan.PublicAccessPointStatement && fd.AccessPoint == "partner-uploads" && strings.Contains(fd.Summary, "access point partner-uploads") {
					found = true
				}
			}
			if !found {
				t.Errorf("no finding names the access point: %+v", res.Findings)
			}
			ap, _ := f.AccessPoint("partner-uploads")
			if strings.Contains(ap.Policy, `"Open"`) || !strings.Contains(ap.Policy, strings.ReplaceAll(partnerAP, "%s", "partner-uploads")) {
				t.Errorf("access point policy after: %s", ap.Policy)
			}
			if o := outcomes(res); o[plan.RemovePublicAccessPointStatements] != remediations.Verified {
				t.Errorf("outcomes %v", o)
			}
			got, _ := f.Bucket("acme-data")
			if got.Policy != b.Policy {
				t.Errorf("the bucket's delegating policy was touched:\n%s", got.Policy)
			}
		})
	}
}

// Access points with VPC network origin are never public; an access point
// policy granting a set of access points by s3:DataAccessPointArn is.
func TestAccessPointRulesOnTheEngine(t *testing.T) {
	f := fake.New()
	f.Put("acme-data", clean())
	f.PutAccessPoint("vpc-only", fake.AccessPoint{Bucket: "acme-data", NetworkOrigin: posture.VPC, Policy: apPolicy("vpc-only", publicAP)})
	f.PutAccessPoint("by-arn", fake.AccessPoint{Bucket: "acme-data", Policy: doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:eu-west-1:111122223333:accesspoint/*"}}}`)})
	res := eval(t, engine(f), bucketT, nil)
	if len(res.Findings) != 1 || res.Findings[0].AccessPoint != "by-arn" {
		t.Fatalf("findings %+v", res.Findings)
	}
	if ap, _ := f.AccessPoint("by-arn"); ap.Policy != "" {
		t.Errorf("the emptied access point policy was not deleted: %s", ap.Policy)
	}
	if ap, _ := f.AccessPoint("vpc-only"); ap.Policy == "" {
		t.Error("the VPC access point's policy was touched")
	}
}

// Many access points: the listing pages, and each is read in the second
// round; a bucket with none takes no second round.
func TestAccessPointsArePaged(t *testing.T) {
	f := fake.New()
	f.Put("acme-data", clean())
	for i := range 1203 {
		name := "ap-" + strings.Repeat("x", 3) + string(rune('a'+i%26)) + "-" + itoa(i)
		f.PutAccessPoint(name, fake.AccessPoint{Bucket: "acme-data"})
	}
	eval(t, engine(f), bucketT, nil)
	if n := f.Count(op.ListAccessPoints); n != 2 {
		t.Errorf("ListAccessPoints called %d times for 1,203 access points", n)
	}
	if n := f.Count(op.GetAccessPoint); n != 1203 {
		t.Errorf("GetAccessPoint called %d times", n)
	}
}

func itoa(i int) string {
	s := ""
	for {
		s = string(rune('0'+i%10)) + s
		i /= 10
		if i == 0 {
			return s
		}
	}
}

// Object Lambda and Multi-Region access points are evaluated on their
// events, on their own.
func TestAccountLevelAccessPoints(t *testing.T) {
	f := fake.New()
	f.PutAccessPoint("redacted", fake.AccessPoint{Kind: posture.ObjectLambdaAccessPoint, Supporting: "arn:aws:s3:eu-west-1:111122223333:accesspoint/partner-uploads",
		Policy: doc(`{"Sid":"Everyone","Effect":"Allow","Principal":"*","Action":"s3-object-lambda:GetObject","Resource":"arn:aws:s3-object-lambda:eu-west-1:111122223333:accesspoint/redacted"}`)})
	f.PutAccessPoint("acme-global", fake.AccessPoint{Kind: posture.MultiRegionAccessPoint,
		Policy: doc(`{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3::111122223333:accesspoint/acme-global0123456789.mrap/object/*"}`)})
	for _, tc := range []struct {
		ref      posture.AccessPointRef
		severity plan.Severity
	}{
		{posture.AccessPointRef{Kind: posture.ObjectLambdaAccessPoint, Name: "redacted"}, plan.High},
		{posture.AccessPointRef{Kind: posture.MultiRegionAccessPoint, Name: "acme-global"}, plan.Critical},
	} {
		t.Run(string(tc.ref.Kind), func(t *testing.T) {
			ref := tc.ref
			target := posture.Target{Account: fake.Account, Region: "eu-west-1", AccessPoint: &ref}
			res, err := engine(f).Evaluate(context.Background(), target, &events.Change{Name: events.PutAccessPointPolicy}, quiet)
			if err != nil || res.Status != contract.Remediated || res.Severity != tc.severity {
				t.Fatalf("%v status %s severity %s: %+v %+v", err, res.Status, res.Severity, res.Findings, res.Actions)
			}
			ap, _ := f.AccessPoint(ref.Name)
			switch ref.Kind {
			case posture.ObjectLambdaAccessPoint:
				if ap.Policy != "" {
					t.Errorf("policy after %s", ap.Policy)
				}
			case posture.MultiRegionAccessPoint:
				// It cannot be deleted: a Deny of plain HTTP stands in.
				if !strings.Contains(ap.Policy, plan.MultiRegionPlaceholderSid) || strings.Contains(ap.Policy, "Allow") {
					t.Errorf("policy after %s", ap.Policy)
				}
			}
		})
	}
}
