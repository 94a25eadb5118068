package policy

// Canned identity policies. readonly is AWS's AmazonS3ReadOnlyAccess (every
// Get and List, so a reader can find what it may read); writeonly and
// readwrite are MinIO's.
var cannedDocs = map[string]string{
	"readonly":  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::*"]}]}`,
	"writeonly": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::*"]}]}`,
	"readwrite": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::*"]}]}`,
}

var canned = map[string]*Policy{}

func init() {
	for name, doc := range cannedDocs {
		p, err := ParseIdentity([]byte(doc))
		if err != nil {
			panic("policy: canned policy " + name + ": " + err.Error())
		}
		canned[name] = p
	}
}

// Canned returns the canned identity policy "readonly" (s3:Get* and
// s3:List* on every resource: objects, their versions, tags and ACLs, bucket
// listings and configurations), "writeonly" (s3:PutObject) or "readwrite"
// (s3:*). The returned policy is shared and immutable.
func Canned(name string) (*Policy, bool) {
	p, ok := canned[name]
	return p, ok
}

// CannedNames lists the canned policy names.
func CannedNames() []string { return []string{"readonly", "readwrite", "writeonly"} }
