// Package filestackemu is the Filestack emulator behind package
// filestacktest (its front door for tests and programs) and `stagesync
// serve --assets`. It does not import package testing. See package
// filestacktest for the behaviour it emulates.
package filestackemu
