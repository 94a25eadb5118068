//go:build cgo

package bench

// cgoBuild: this binary (and the child server, by default the same) can
// load a PKCS#11 module.
const cgoBuild = true
