// The theme's colours as canvas colours. The CSS variables hold light-dark(…) pairs a canvas cannot
// use, so each is resolved through a probe element; they change with the theme switch (data-theme)
// and, in the "system" theme, with the system's scheme.
import { useEffect, useState } from 'react';

export function useThemeColors<K extends string>(variables: Record<K, string>): Record<K, string> {
  const [colors, setColors] = useState(() => resolve(variables));
  const key = JSON.stringify(variables);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `variables`' content
  useEffect(() => {
    const update = () => setColors(resolve(variables));
    update();
    const observer = new MutationObserver(update);
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    scheme.addEventListener('change', update);
    return () => {
      observer.disconnect();
      scheme.removeEventListener('change', update);
    };
  }, [key]);
  return colors;
}

function resolve<K extends string>(variables: Record<K, string>): Record<K, string> {
  const probe = document.createElement('span');
  probe.style.display = 'none';
  document.body.append(probe);
  const resolved = {} as Record<K, string>;
  for (const [name, variable] of Object.entries(variables) as [K, string][]) {
    probe.style.color = `var(${variable})`;
    resolved[name] = getComputedStyle(probe).color;
  }
  probe.remove();
  return resolved;
}
