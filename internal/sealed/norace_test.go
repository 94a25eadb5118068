//go:build !race

package sealed

const raceEnabled = false
