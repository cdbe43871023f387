// What the Sheave module re-exports from the layers below it.
@_exported import enum SheaveBytecode.Target
@_exported import struct SheaveCompiler.ArtifactError
@_exported import class SheaveInterpreter.Profiler
@_exported import struct SheaveInterpreter.ProfileSamples
