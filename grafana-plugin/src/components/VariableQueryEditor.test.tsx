import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { DataSource } from '../datasource';
import { newInstanceSettings } from '../test/fakes';
import type { RLQuery } from '../types';
import { VariableQueryEditor } from './VariableQueryEditor';

function renderEditor(query: RLQuery) {
  const onChange = vi.fn<(q: RLQuery) => void>();
  const datasource = new DataSource(newInstanceSettings());
  render(
    <VariableQueryEditor
      query={query}
      datasource={datasource}
      onChange={onChange}
      onRunQuery={vi.fn()}
    />
  );
  return onChange;
}

describe('VariableQueryEditor', () => {
  it('lists routers by default', () => {
    renderEditor({ refId: 'V' });

    expect(screen.getByText('Routers')).toBeInTheDocument();
  });

  it('emits a variable query for the picked kind', async () => {
    const onChange = renderEditor({ refId: '' });

    await userEvent.click(screen.getByLabelText('Values'));
    await userEvent.click(await screen.findByText('Properties'));

    expect(onChange).toHaveBeenCalledWith({
      refId: 'variable',
      queryType: 'variable',
      variable: 'properties',
    });
  });
});
