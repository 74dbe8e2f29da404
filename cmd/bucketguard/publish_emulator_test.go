//go:build integration

package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/bucketguard/bucketguard/remediations/clients"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/emulator"
)

// bucketguard publish on the emulator, with its real AWS wiring: the
// version lands in each region's asset bucket (the template in the home
// region's only), S3 checks each body's SHA-256, a second run writes
// nothing, and other bytes under the same version overwrite nothing.
func TestPublishOnTheEmulator(t *testing.T) {
	emulator.ResetEmulator(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	account := aws.ToString(id.Account)
	regional := map[string]*s3.Client{}
	for _, r := range []string{"eu-west-1", "us-east-1"} {
		c := cfg.Copy()
		c.Region = r
		regional[r] = clients.New(c).S3
		in := &s3.CreateBucketInput{Bucket: aws.String(contract.AssetBucketName(account, r))}
		if r != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r)}
		}
		if _, err := regional[r].CreateBucket(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	dist, tpl := release(t, "v1")
	publishOnce := func(dist string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(ctx, []string{"publish", "--region", "eu-west-1,us-east-1", "--version", "2.0.0", "--dist", dist, "--template", tpl},
			strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, errs := publishOnce(dist)
	t.Logf("bucketguard publish:\n%s%s", out, errs)
	if code != exitOK || strings.Count(out, "put ") != 5 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for r, names := range map[string][]string{"eu-west-1": append(contract.AssetObjects, contract.MemberTemplateObject), "us-east-1": contract.AssetObjects} {
		for _, name := range names {
			got, err := regional[r].GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(contract.AssetBucketName(account, r)), Key: aws.String("bucketguard/2.0.0/" + name)})
			if err != nil {
				t.Fatalf("%s %s: %v", r, name, err)
			}
			body, _ := io.ReadAll(got.Body)
			got.Body.Close()
			want, _ := os.ReadFile(filepath.Join(dist, name))
			if name == contract.MemberTemplateObject {
				want, _ = os.ReadFile(tpl)
			}
			if !bytes.Equal(body, want) {
				t.Errorf("%s %s: %q", r, name, body)
			}
		}
	}
	if _, err := regional["us-east-1"].HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(contract.AssetBucketName(account, "us-east-1")),
		Key: aws.String("bucketguard/2.0.0/" + contract.MemberTemplateObject)}); err == nil {
		t.Error("the member template was published outside the home region")
	}
	if code, out, errs := publishOnce(dist); code != exitOK || strings.Count(out, "same ") != 5 {
		t.Errorf("again: exit %d\n%s%s", code, out, errs)
	}
	dist2, _ := release(t, "v2")
	if code, _, errs := publishOnce(dist2); code == exitOK || !strings.Contains(errs, "already published with other bytes") {
		t.Errorf("other bytes: exit %d\n%s", code, errs)
	}
}
