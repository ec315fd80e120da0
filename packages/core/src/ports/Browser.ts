/** Opens a URL in the user's browser (VS Code: env.openExternal; CLI: xdg-open or print; Jupyter: the frontend). */
export interface Browser {
  open(url: string): Promise<boolean>;
}

export class FakeBrowser implements Browser {
  readonly opened: string[] = [];
  async open(url: string): Promise<boolean> {
    this.opened.push(url);
    return true;
  }
}
