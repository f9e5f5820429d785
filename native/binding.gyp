# node-gyp builds from this folder so its output lands in native/build/ (the root build/
# belongs to the TypeScript test build); the target itself is defined in ../binding.gyp.
{ "includes": ["../binding.gyp"] }
