package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/joho/godotenv"
)

// The environment variables that point the example at real stages. The
// original tutorial's .env names for the tokens (GCMS_PAT_SOURCE and
// GCMS_PAT_DEST, permanent auth tokens) are accepted too; the tutorial built
// its endpoints in code from the project id, so endpoints have no GCMS_ name.
const (
	envSourceEndpoint = "STAGESYNC_SOURCE_ENDPOINT"
	envSourceToken    = "STAGESYNC_SOURCE_TOKEN"
	envDestEndpoint   = "STAGESYNC_DEST_ENDPOINT"
	envDestToken      = "STAGESYNC_DEST_TOKEN"
	// envDestFilestackKey is the Filestack API key of the destination's
	// asset bucket, needed to copy the hotels' photos into a destination
	// on the legacy asset system.
	envDestFilestackKey = "STAGESYNC_DEST_FILESTACK_KEY"

	envTutorialSourceToken = "GCMS_PAT_SOURCE"
	envTutorialDestToken   = "GCMS_PAT_DEST"
)

// stagesEnv is where the stages are, as the environment says.
type stagesEnv struct {
	sourceEndpoint, sourceToken string
	destEndpoint, destToken     string
	destFilestackKey            string
}

// configured reports whether the environment names real stages; with
// neither endpoint set, the example runs against emulated stages.
func (e stagesEnv) configured() (bool, error) {
	switch {
	case e.sourceEndpoint != "" && e.destEndpoint != "":
		return true, nil
	case e.sourceEndpoint != "" || e.destEndpoint != "":
		return false, fmt.Errorf("set both %s and %s to sync real stages, or neither to run against emulated ones",
			envSourceEndpoint, envDestEndpoint)
	}
	return false, nil
}

// readStagesEnv reads the stages from the process environment and, for the
// variables it does not set, from the .env file at path (if there is one).
func readStagesEnv(path string) (stagesEnv, error) {
	file, err := readDotEnv(path)
	if err != nil {
		return stagesEnv{}, err
	}
	get := func(names ...string) string {
		for _, n := range names {
			if v := os.Getenv(n); v != "" {
				return v
			}
			if v := file[n]; v != "" {
				return v
			}
		}
		return ""
	}
	return stagesEnv{
		sourceEndpoint:   get(envSourceEndpoint),
		sourceToken:      get(envSourceToken, envTutorialSourceToken),
		destEndpoint:     get(envDestEndpoint),
		destToken:        get(envDestToken, envTutorialDestToken),
		destFilestackKey: get(envDestFilestackKey),
	}, nil
}

// readDotEnv reads the KEY=value lines of a .env file; a missing file is
// an empty one.
func readDotEnv(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	m, err := godotenv.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return m, nil
}
