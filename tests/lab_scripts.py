"""What the tests ask a JupyterLab page, in JavaScript: a notebook panel's state, its cells, and running them.

Each is a Playwright ``page.evaluate`` function; they find the notebook panel by its file's path (`FIND_JS`), never
by focus.
"""

# The open notebook panel whose file is `path` (not "the current widget": that one depends on focus).
FIND_JS = (
    "const w = window.jupyterapp && [...window.jupyterapp.shell.widgets('main')]"
    ".find(w => w.context && w.context.path === path);"
)

# The notebook as the page shows it, read every fraction of a second while it runs.
SNAPSHOT_JS = (
    """([path, upto]) => {
  """
    + FIND_JS
    + """
  if (!w) return null;
  const node = w.node;
  const all = sel => [...node.querySelectorAll(sel)];
  const prompts = all('.jp-CodeCell .jp-InputPrompt').map(e => e.textContent.trim());
  const outputText = all('.jp-OutputArea').map(e => e.textContent).join('\\n');
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  const code = w.content.widgets.filter(c => c.model.type === 'code');
  return {
    kernel: kernel ? kernel.status : 'none',
    running: prompts.filter(p => p.includes('*')).length,
    numbered: prompts.filter(p => /\\d/.test(p)).length,
    // the same from the notebook model (the page may not have rendered every cell yet)
    modelRunning: code.filter(c => c.model.executionState === 'running').length,
    pending: code.slice(0, upto === null ? code.length : upto)
      .filter(c => c.model.sharedModel.getSource().trim() && c.model.executionCount === null).length,
    stopped: code.some(c => !(c.model.getMetadata('tags') || []).includes('raises-exception')
                            && c.model.outputs.toJSON().some(o => o.output_type === 'error')),
    dialog: document.querySelector('.jp-Dialog') ? document.querySelector('.jp-Dialog').textContent : null,
    widgetViews: all('.jp-OutputArea-output > .jupyter-widgets').length,
    loadingWidget: outputText.includes('Loading widget'),
    brokenWidget: /Error displaying widget|model not found/.exec(outputText) ? true : false,
    forms: all('.course-form').map(e => e.textContent),
    inboxFrames: all('.course-inbox iframe').map(f => ({
      sandbox: f.getAttribute('sandbox'), gif: (f.getAttribute('srcdoc') || '').includes('data:image/gif')})),
    logs: all('.course-log').map(e => e.textContent),
    dashboards: all('.course-dashboard').map(d => [...d.querySelectorAll('td[title]')]
                                          .map(td => td.title + '=' + td.textContent.trim()).join(' ')),
  };
}"""
)

# Every code cell, from the notebook model: what ran, its tags, its error outputs.
CELLS_JS = (
    """(path) => { """
    + FIND_JS
    + """ return w.content.widgets
  .map((cell, index) => ({cell, index})).filter(({cell}) => cell.model.type === 'code')
  .map(({cell, index}) => ({
    index,
    source: cell.model.sharedModel.getSource(),
    count: cell.model.executionCount,
    tags: cell.model.getMetadata('tags') || [],
    errors: cell.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
    widgets: cell.model.outputs.toJSON().filter(o => o.data && o.data['application/vnd.jupyter.widget-view+json'])
      .length,
  })); }"""
)

READY_JS = (
    """(path) => {
  """
    + FIND_JS
    + """
  if (!w || !w.context.isReady) return false;
  if (window.jupyterapp.shell.currentWidget !== w) {  // menus act on the current notebook: make it this one
    window.jupyterapp.shell.activateById(w.id);
    return false;
  }
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && w.sessionContext.isReady;
}"""
)

# Select the first code cell whose source has the marker; returns how many code cells there are up to it, with it.
SELECT_JS = (
    """([path, marker]) => {
  """
    + FIND_JS
    + """
  const index = w.content.widgets.findIndex(c => c.model.type === 'code'
                                             && c.model.sharedModel.getSource().includes(marker));
  if (index < 0) return null;
  return w.content.widgets.slice(0, index + 1).filter(c => c.model.type === 'code').length;
}"""
)

# Run every cell above the marked one, then the marked one (Run > Run All Above Selected Cell, Run Selected Cell).
# (Not awaited: the kernel runs them in the order they were sent, and the page is read meanwhile.)
RUN_UNTIL_JS = (
    """([path, marker]) => {
  """
    + FIND_JS
    + """
  w.content.activeCellIndex = w.content.widgets.findIndex(c => c.model.type === 'code'
                                                          && c.model.sharedModel.getSource().includes(marker));
  window.jupyterapp.commands.execute('notebook:run-all-above');
  window.jupyterapp.commands.execute('notebook:run-cell');
}"""
)

# From the cell after the first `upto` code cells: Run > Run Selected Cell and All Below.
RUN_REST_JS = (
    """([path, upto]) => {
  """
    + FIND_JS
    + """
  const widgets = w.content.widgets;
  let seen = 0, index = 0;
  while (index < widgets.length && (widgets[index].model.type !== 'code' || seen < upto)) {
    if (widgets[index].model.type === 'code') seen += 1;
    index += 1;
  }
  w.content.activeCellIndex = index;
  window.jupyterapp.commands.execute('notebook:run-all-below');
}"""
)

# Images inside an inbox frame: [src prefix, naturalWidth, complete].
FRAME_IMAGES_JS = "() => [...document.images].map(i => [i.src.slice(0, 22), i.naturalWidth, i.complete])"

# Record the values of widget fields the page sends to the kernel (ipywidgets' "update" messages), in
# window.courseSentValues. ipywidgets holds a field's newest value back while an earlier update is unanswered, but
# sends a Text's Enter ({"event": "submit"}) at once: a test that types, then presses Enter, waits until what it
# typed has been sent (the kernel then handles it before the Enter, in the order sent).
RECORD_SENT_VALUES_JS = (
    """(path) => {
  """
    + FIND_JS
    + """
  const kernel = w.sessionContext.session.kernel;
  window.courseSentValues = [];
  kernel.anyMessage.connect((_, args) => {
    const msg = args.msg;
    if (args.direction !== 'send' || msg.header.msg_type !== 'comm_msg') return;
    const data = msg.content.data || {};
    if (data.method === 'update' && data.state && 'value' in data.state) window.courseSentValues.push(data.state.value);
  });
}"""
)

# Every cell (markdown and raw too), in order: [{index, type, source}].
ALL_CELLS_JS = (
    """(path) => { """
    + FIND_JS
    + """ return w.content.widgets.map((cell, index) =>
    ({index, type: cell.model.type, source: cell.model.sharedModel.getSource()})); }"""
)

# Run every cell above the cell at `index` (Run > Run All Above Selected Cell, with that cell selected).
RUN_ABOVE_JS = (
    """([path, index]) => {
  """
    + FIND_JS
    + """
  w.content.activeCellIndex = index;
  window.jupyterapp.commands.execute('notebook:run-all-above');
}"""
)

# The text the cell at `index` shows in its output area.
OUTPUT_TEXT_JS = (
    """([path, index]) => {
  """
    + FIND_JS
    + """
  const area = w.content.widgets[index].node.querySelector('.jp-OutputArea');
  return area ? area.textContent : '';
}"""
)
