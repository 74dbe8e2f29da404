package contract

// The organization's published assets, as the admin stack names them and
// bucketguard publish writes them: in each region the StackSet deploys
// to, a bucket of the admin account, AssetBucketName, holding under a
// version's key prefix the functions' code (AssetObjects); in the home
// region also the member template (MemberTemplateObject), which the
// StackSet reads by URL.
const (
	// AssetBucketPrefix starts every asset bucket's name:
	// <AssetBucketPrefix>-<account>-<region>.
	AssetBucketPrefix = "bucketguard-assets"
	// MemberTemplateObject is the member template's object name.
	MemberTemplateObject = "member.template.json"
)

// AssetObjects are the functions' code bundles, one per member function.
var AssetObjects = []string{"remediate.zip", "sweep.zip"}

// AssetBucketName is the asset bucket of an admin account in a region.
func AssetBucketName(account, region string) string {
	return AssetBucketPrefix + "-" + account + "-" + region
}
