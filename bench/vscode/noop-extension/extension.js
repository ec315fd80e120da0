// The no-op baseline of the vscode bench: what VS Code itself spends to activate an extension.
exports.activate = function activate() {
  return {};
};
