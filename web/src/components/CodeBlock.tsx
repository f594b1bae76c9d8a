import { CopyButton } from './CopyButton.tsx';

export function CodeBlock({ code, label }: { code: string; label?: string }) {
  return (
    <div className="code-block">
      <CopyButton text={code} label={label ?? 'Copy'} className="small code-copy" />
      <pre>
        <code>{code}</code>
      </pre>
    </div>
  );
}
